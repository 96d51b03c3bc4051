// PostGraphile v5 as bench/servers.py runs it: the Amber preset (v5's
// defaults) plus the connection-filter plugin, the pool size of every
// system, no GraphiQL, no watch, no explain. PgIndexBehaviorsPlugin is off,
// as v4's ignoreIndexes is by default: envgraph's composite foreign keys
// (model_id, project_id) have no index of their own, and with the plugin v5
// would hide Model.environments, which the nested scenario needs.
// events.properties (jsonb) is made filterable: v5 gives jsonb no natural
// equality, so neither `condition` nor the filter plugin offers it by default;
// with the behavior the plugin's jsonb operators (`contains`: `@>`) appear,
// which the events window scenario needs. @graphile/pg-aggregates gives the
// connections `aggregates` and `groupedAggregates` (the groups scenario).
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";
import { PostGraphileConnectionFilterPreset } from "postgraphile-plugin-connection-filter";
import { jsonPgSmartTags } from "postgraphile/utils";
import { PgAggregatesPreset } from "@graphile/pg-aggregates";

const EventPropertiesFilterable = jsonPgSmartTags({
  version: 1,
  config: {
    class: {
      events: { attribute: { properties: { tags: { behavior: "+attribute:filterBy" } } } },
    },
  },
});

export default {
  extends: [PostGraphileAmberPreset, PostGraphileConnectionFilterPreset, PgAggregatesPreset],
  plugins: [EventPropertiesFilterable],
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public"],
      poolConfig: { max: Number(process.env.PG_POOL_MAX || 16) },
    }),
  ],
  grafserv: {
    host: "127.0.0.1",
    port: Number(process.env.PORT || 5401),
    graphiql: false,
    watch: false,
  },
  grafast: { explain: false },
};
