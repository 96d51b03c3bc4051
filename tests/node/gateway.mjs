// An Apollo Gateway (Federation 2) in front of subgraphs given by URL.
//
//   node gateway.mjs <port> <name>=<url> [<name>=<url> ...]
//   GATEWAY_PORT=<port> SUBGRAPHS="<name>=<url>,<name>=<url>" node gateway.mjs
//
// Composes the subgraphs at startup from their `_service { sdl }`
// (IntrospectAndCompose: no registry, no network besides the subgraphs),
// forwards the caller's Authorization header to every subgraph, listens on
// 127.0.0.1:<port> and prints one line once it serves:
//   gateway ready http://127.0.0.1:<port>/ (subgraphs: envgraph, reviews)
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";

const [portArg, ...subgraphArgs] = process.argv.slice(2);
const port = Number(portArg ?? process.env.GATEWAY_PORT);
const specs = subgraphArgs.length
  ? subgraphArgs
  : (process.env.SUBGRAPHS ?? "").split(",").filter(Boolean);
const subgraphs = specs.map((spec) => {
  const at = spec.indexOf("=");
  return { name: spec.slice(0, at), url: spec.slice(at + 1) };
});
if (!Number.isInteger(port) || subgraphs.length === 0 || subgraphs.some((s) => !s.name || !s.url)) {
  console.error("usage: node gateway.mjs <port> <name>=<url> [<name>=<url> ...]");
  process.exit(2);
}

/** Sends the incoming request's Authorization header on to the subgraph. */
class AuthenticatedDataSource extends RemoteGraphQLDataSource {
  willSendRequest({ request, context }) {
    // context is empty for the composition's own `_service` requests
    if (context?.authorization) {
      request.http.headers.set("authorization", context.authorization);
    }
  }
}

const gateway = new ApolloGateway({
  supergraphSdl: new IntrospectAndCompose({ subgraphs }),
  buildService: ({ url }) => new AuthenticatedDataSource({ url }),
});
const server = new ApolloServer({ gateway, includeStacktraceInErrorResponses: false });
const { url } = await startStandaloneServer(server, {
  listen: { host: "127.0.0.1", port },
  context: async ({ req }) => ({ authorization: req.headers.authorization }),
});
// Apollo Server stops itself (and the gateway) on SIGINT / SIGTERM.
console.log(`gateway ready ${url} (subgraphs: ${subgraphs.map((s) => s.name).join(", ")})`);
