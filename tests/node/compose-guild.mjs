// Composes subgraph SDL files with The Guild's federation composition
// (the other widely used implementation besides Apollo's).
// Usage: node compose-guild.mjs name=file.graphql [name=file.graphql ...]
// Prints {"supergraph": "..."} or {"errors": [...]} (exit 1).
import { readFileSync } from "node:fs";
import { parse } from "graphql";
import { composeServices } from "@theguild/federation-composition";

const services = process.argv.slice(2).map((argument) => {
  const [name, file] = argument.split("=");
  return { name, typeDefs: parse(readFileSync(file, "utf8")), url: `http://${name}.invalid/graphql` };
});
const result = composeServices(services);
if (result.errors?.length) {
  console.log(JSON.stringify({ errors: result.errors.map((error) => error.message) }));
  process.exit(1);
}
console.log(JSON.stringify({ supergraph: result.supergraphSdl }));
