// Apollo Client (core, no React) paging through envgraph's environments.
//
//   node apollo-client.mjs <url> <token> [first=5] [pages=2]
//
// Asks `environments(first:, after:, orderBy: [{field: NAME}])` page after
// page, following `pageInfo.endCursor`, and prints one JSON document:
//   {"pages": [<data.environments of page 1>, <of page 2>, ...]}
// Exits 1 (with the error on stderr) if a request fails.
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client/core";

const [url, token, first = "5", pages = "2"] = process.argv.slice(2);
if (!url || !token) {
  console.error("usage: node apollo-client.mjs <url> <token> [first] [pages]");
  process.exit(2);
}

const PAGE = gql`
  query EnvironmentPage($first: Int!, $after: String) {
    environments(first: $first, after: $after, orderBy: [{ field: NAME }]) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        cursor
        node {
          id
          name
        }
      }
    }
  }
`;

const client = new ApolloClient({
  link: new HttpLink({ uri: url, fetch, headers: { authorization: `Bearer ${token}` } }),
  cache: new InMemoryCache(),
});

try {
  const result = [];
  let after = null;
  for (let page = 0; page < Number(pages); page++) {
    const { data } = await client.query({
      query: PAGE,
      variables: { first: Number(first), after },
      fetchPolicy: "network-only",
    });
    result.push(data.environments);
    if (!data.environments.pageInfo.hasNextPage) break;
    after = data.environments.pageInfo.endCursor;
  }
  console.log(JSON.stringify({ pages: result }));
} catch (error) {
  console.error(error);
  // GraphQL errors in full (console.error shows their extensions as [Object])
  if (error.errors) console.error(JSON.stringify(error.errors));
  process.exitCode = 1;
}
