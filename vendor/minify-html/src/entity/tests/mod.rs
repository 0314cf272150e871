// sitevault patch: `decode_entities` borrowing.
mod decode;
mod encode;
