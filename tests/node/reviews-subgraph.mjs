// A second Federation 2 subgraph for the gateway tests: "reviews" adds
// `alertCount` to envgraph's Environment entity and a root list of alerts that
// point back at environments (resolved by envgraph through the gateway).
//
// It records every `_entities` call it serves, with the number of
// representations in it, and shows them on `Query.stats` (ask the subgraph
// itself, not the gateway).
//
//   node reviews-subgraph.mjs <port>
//
// Listens on 127.0.0.1:<port> and prints one line once it does:
//   reviews ready http://127.0.0.1:<port>/
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import { startStandaloneServer } from "@apollo/server/standalone";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { Kind, parse } from "graphql";

const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])

  type Environment @key(fields: "id") {
    id: ID!
    "Open alerts on the environment (derived from its id: sum of its characters' codes mod 7)."
    alertCount: Int!
  }

  type Alert {
    id: ID!
    severity: Int!
    environment: Environment!
  }

  type EntityStats {
    "How many _entities operations the subgraph served."
    calls: Int!
    "The number of representations of each of them, in order."
    batches: [Int!]!
  }

  type Query {
    "One alert per environment id given (the gateway resolves the environments through envgraph)."
    alerts(environmentIds: [ID!]!): [Alert!]!
    stats: EntityStats!
  }
`);

/** The alert count of an environment: a pure function of its id. */
function alertCount(id) {
  let sum = 0;
  for (const char of id) sum += char.codePointAt(0);
  return sum % 7;
}

const batches = [];

const resolvers = {
  Environment: {
    __resolveReference: (reference) => ({ id: reference.id }),
    alertCount: (environment) => alertCount(environment.id),
  },
  Query: {
    alerts: (_, { environmentIds }) =>
      environmentIds.map((id, index) => ({
        id: `alert-${index + 1}`,
        severity: alertCount(id),
        environment: { __typename: "Environment", id },
      })),
    stats: () => ({ calls: batches.length, batches: [...batches] }),
  },
};

/** Records the representation count of each `_entities` field an operation selects. */
const countEntities = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operation, request }) {
        for (const selection of operation.selectionSet.selections) {
          if (selection.kind !== Kind.FIELD || selection.name.value !== "_entities") continue;
          const argument = selection.arguments.find((a) => a.name.value === "representations");
          const value = argument?.value;
          if (value?.kind === Kind.VARIABLE) {
            batches.push((request.variables?.[value.name.value] ?? []).length);
          } else if (value?.kind === Kind.LIST) {
            batches.push(value.values.length);
          } else {
            batches.push(1);
          }
        }
      },
    };
  },
};

const port = Number(process.argv[2] ?? process.env.REVIEWS_PORT ?? 4002);
const server = new ApolloServer({
  schema: buildSubgraphSchema({ typeDefs, resolvers }),
  plugins: [countEntities, ApolloServerPluginInlineTraceDisabled()],
});
const { url } = await startStandaloneServer(server, { listen: { host: "127.0.0.1", port } });
// Apollo Server stops itself on SIGINT / SIGTERM.
console.log(`reviews ready ${url}`);

