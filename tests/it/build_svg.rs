//! SVG files: minified without changing what they draw (`src/build/svg.rs`); what the
//! minifier does not understand is copied byte for byte, never refused.

use crate::common::*;

use sitevault::schema::BuildManifest;

const ICON: &str = r##"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!-- Generator: Adobe Illustrator 27.0, SVG Export Plug-In -->
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns="http://www.w3.org/2000/svg"
     viewBox="0 0 100 100">
  <!--! Icon Set 1.0 - License: CC BY 4.0 -->
  <!-- layer 1 -->
  <g fill="#333">
    <path d = "M 10.0,10.0 L 90.0,10.0 L 90.0,90.0 L 0.50,90.0 Z" />
    <polygon points="0, 0  10, 0  10, 10" />
  </g>
  <text x="50" y="50"> two  spaces <tspan> kept </tspan></text>
</svg>
"##;

/// An entity the minifier does not expand, and text in another encoding.
const ENTITY: &str = "<!DOCTYPE svg [<!ENTITY c \"#f00\">]>\n<svg xmlns=\"http://www.w3.org/2000/svg\">\n  <rect fill=\"&c;\" width=\"1\" height=\"1\"/>\n</svg>\n";
const LATIN1: &[u8] =
    b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\">\n  <title>caf\xe9</title>\n</svg>\n";

#[test]
fn svg_files_are_minified_keeping_licences_and_text() {
    let t = tempfile::tempdir().unwrap();
    let site = t.path().join("site");
    std::fs::create_dir_all(site.join("img")).unwrap();
    std::fs::write(site.join("img/icon.svg"), ICON).unwrap();
    std::fs::write(site.join("img/entity.svg"), ENTITY).unwrap();
    std::fs::write(site.join("img/latin1.svg"), LATIN1).unwrap();
    std::fs::write(
        site.join("index.html"),
        "<img src=img/icon.svg><img src=img/entity.svg><img src=img/latin1.svg>",
    )
    .unwrap();
    // No --keep-going: an SVG the minifier cannot read is copied, not refused.
    ok(sv(t.path()).args(["build", "site", "-o", "dist", "-q"]));
    let m: BuildManifest = serde_json::from_slice(
        &std::fs::read(t.path().join("dist/.sitevault/manifest.json")).unwrap(),
    )
    .unwrap();
    let out = |stem: &str| {
        let name = m
            .files
            .keys()
            .find(|k| k.starts_with(&format!("/img/{stem}.")))
            .unwrap_or_else(|| panic!("{stem} not in the manifest"))
            .clone();
        let page = std::fs::read_to_string(t.path().join("dist/index.html")).unwrap();
        assert!(page.contains(&name[1..]), "the page names {name}");
        std::fs::read(t.path().join("dist").join(&name[1..])).unwrap()
    };
    let icon = String::from_utf8(out("icon")).unwrap();
    assert_eq!(
        icon,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 100 100\">\
         <!--! Icon Set 1.0 - License: CC BY 4.0 -->\
         <g fill=\"#333\"><path d=\"M10 10H90V90H.5Z\"/><polygon points=\"0 0 10 0 10 10\"/></g>\
         <text x=\"50\" y=\"50\"> two  spaces <tspan> kept </tspan></text></svg>"
    );
    assert_eq!(out("entity"), ENTITY.as_bytes());
    assert_eq!(out("latin1"), LATIN1);
}

#[test]
fn files_an_svg_names_keep_their_names() {
    let t = tempfile::tempdir().unwrap();
    let site = t.path().join("site");
    std::fs::create_dir_all(site.join("img")).unwrap();
    std::fs::write(site.join("img/photo.png"), b"\x89PNG not really").unwrap();
    std::fs::write(
        site.join("img/icons.svg"),
        "<svg xmlns=\"http://www.w3.org/2000/svg\"><symbol id=\"a\"/></svg>",
    )
    .unwrap();
    std::fs::write(
        site.join("img/card.svg"),
        "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n  \
         <image href=\"photo.png\" width=\"10\" height=\"10\"/>\n  <use xlink:href=\"icons.svg#a\"/>\n</svg>\n",
    )
    .unwrap();
    std::fs::write(site.join("index.html"), "<img src=img/card.svg>").unwrap();
    ok(sv(t.path()).args(["build", "site", "-o", "dist", "-q"]));
    let dist = t.path().join("dist/img");
    // What the SVG names is where the SVG looks for it.
    assert!(dist.join("photo.png").is_file());
    assert!(dist.join("icons.svg").is_file());
    let card = std::fs::read_dir(&dist)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .find(|n| n.starts_with("card."))
        .unwrap();
    let text = std::fs::read_to_string(dist.join(card)).unwrap();
    assert!(
        text.contains("href=\"photo.png\"") && text.contains("xlink:href=\"icons.svg#a\""),
        "{text}"
    );
}
