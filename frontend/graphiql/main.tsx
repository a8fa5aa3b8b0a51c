// GraphiQL for Chirp, served at GET /graphql (web/assets.py) from the bundle that
// frontend/build.mjs makes of this file: everything it needs comes from this server.
import { explorerPlugin } from "@graphiql/plugin-explorer";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { createRoot } from "react-dom/client";

import "graphiql/style.css";
import "@graphiql/plugin-explorer/style.css";
import "./main.css";

// File names of Monaco's workers, next to this bundle (build.mjs defines them).
declare const __CHIRP_WORKERS__: Record<string, string>;

type MonacoWindow = typeof globalThis & {
  MonacoEnvironment?: { getWorker(workerId: string, label: string): Worker };
};

(globalThis as MonacoWindow).MonacoEnvironment = {
  getWorker(_workerId: string, label: string): Worker {
    const file = __CHIRP_WORKERS__[label] ?? __CHIRP_WORKERS__.editor;
    return new Worker(new URL(file, import.meta.url), { name: label });
  },
};

const endpoint = new URL("/graphql", location.href);
const socket = new URL(endpoint);
socket.protocol = location.protocol === "https:" ? "wss:" : "ws:";

// Queries and mutations over HTTP POST; subscriptions over a graphql-transport-ws
// WebSocket (graphql-ws's createClient, one per subscription), whose connection_init
// payload carries the headers editor's headers: Chirp reads `Authorization` (and
// `X-Api-Key`) there.
const fetcher = createGraphiQLFetcher({
  url: endpoint.href,
  subscriptionUrl: socket.href,
});

const DEFAULT_QUERY = `# Welcome to Chirp's GraphiQL.
#
# Sign up (or log in) with a mutation, then put the token it returns in the
# Headers tab below as {"Authorization": "Bearer <token>"}: it is kept across
# reloads, and sent with queries, mutations and subscriptions alike.
# The first icon on the left opens the schema's documentation; the second,
# the explorer, builds queries by ticking fields.

query Hello {
  __typename
}
`;

const root = document.getElementById("graphiql");
if (root === null) throw new Error("no #graphiql element on the page");
createRoot(root).render(
  <GraphiQL
    fetcher={fetcher}
    plugins={[explorerPlugin()]}
    defaultQuery={DEFAULT_QUERY}
    isHeadersEditorEnabled={true}
    shouldPersistHeaders={true}
  />,
);
