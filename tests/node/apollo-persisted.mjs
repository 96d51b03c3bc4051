// Apollo Client (core, no React) with its persisted-query link (automatic
// persisted queries, hashed queries sent with GET) against envgraph.
//
//   node apollo-persisted.mjs <url> <token> [runs=2]
//
// Runs `query Viewer { viewer { scopes } }` `runs` times (network-only) and
// prints one JSON document:
//   {"results": [<data of run 1>, ...],
//    "requests": [{"method", "status", "query": <whether the text was sent>,
//                  "hash": <extensions.persistedQuery.sha256Hash>}, ...]}
// Exits 1 (with the error on stderr) if a request fails.
import { createHash } from "node:crypto";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client/core";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";

const [url, token, runs = "2"] = process.argv.slice(2);
if (!url || !token) {
  console.error("usage: node apollo-persisted.mjs <url> <token> [runs]");
  process.exit(2);
}

const VIEWER = gql`
  query Viewer {
    viewer {
      scopes
    }
  }
`;

const requests = [];

// what went over the wire, as the server saw it
async function recordingFetch(input, init) {
  const method = init?.method ?? "GET";
  let sent;
  if (method === "GET") {
    const params = new URL(String(input)).searchParams;
    sent = {
      query: params.get("query"),
      extensions: JSON.parse(params.get("extensions") ?? "null"),
    };
  } else {
    sent = JSON.parse(init.body);
  }
  const response = await fetch(input, init);
  requests.push({
    method,
    status: response.status,
    query: typeof sent.query === "string" && sent.query.length > 0,
    hash: sent.extensions?.persistedQuery?.sha256Hash ?? null,
  });
  return response;
}

const sha256 = (text) => createHash("sha256").update(text).digest("hex");

const client = new ApolloClient({
  link: new PersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(
    new HttpLink({ uri: url, fetch: recordingFetch, headers: { authorization: `Bearer ${token}` } }),
  ),
  cache: new InMemoryCache(),
});

try {
  const results = [];
  for (let run = 0; run < Number(runs); run++) {
    const { data } = await client.query({ query: VIEWER, fetchPolicy: "network-only" });
    results.push(data);
  }
  console.log(JSON.stringify({ results, requests }));
} catch (error) {
  console.error(error);
  if (error.errors) console.error(JSON.stringify(error.errors));
  console.error(JSON.stringify(requests));
  process.exitCode = 1;
}
