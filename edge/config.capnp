# workerd configuration for running the sitevault edge worker locally:
#   SV_ORIGIN=http://127.0.0.1:9000/bucket/site SV_CHANNEL=production SV_TTL_MS=5000 \
#   npx workerd serve config.capnp --socket-addr http=127.0.0.1:8787
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .edgeWorker),
    # Allow fetches to local origins (the default "internet" service refuses them).
    (name = "internet", network = (allow = ["public", "local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "main") ],
);

const edgeWorker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "blake3.js", esModule = embed "blake3.js"),
  ],
  compatibilityDate = "2024-09-23",
  bindings = [
    (name = "ORIGIN", fromEnvironment = "SV_ORIGIN"),
    (name = "CHANNEL", fromEnvironment = "SV_CHANNEL"),
    (name = "MANIFEST_TTL_MS", fromEnvironment = "SV_TTL_MS"),
    (name = "VERIFY_WHOLE_MAX", fromEnvironment = "SV_VERIFY_WHOLE_MAX"),
  ],
);
