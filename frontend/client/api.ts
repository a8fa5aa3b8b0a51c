// The GraphQL client: urql over HTTP POST for queries and mutations, and over one
// graphql-transport-ws WebSocket (graphql-ws) for subscriptions, both on this
// server's /graphql. The token lives in localStorage; HTTP requests carry it as
// `Authorization: Bearer`, the WebSocket in connection_init (browsers cannot set
// headers on a WebSocket), as docs/api.md ("Subscriptions") says.
import { Client, CombinedError, cacheExchange, fetchExchange, subscriptionExchange } from "urql";
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";

const TOKEN_KEY = "chirp.token";
const PING_MS = 3000;

export function savedToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string | null): void {
  if (token === null) localStorage.removeItem(TOKEN_KEY);
  else localStorage.setItem(TOKEN_KEY, token);
}

// --- reachability: whether the last request reached Chirp --------------------------

type Listener = () => void;
const listeners = new Set<Listener>();
let reachable = true;
let pinging: number | undefined;

export const connection = {
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  reachable: (): boolean => reachable,
};

function report(ok: boolean): void {
  if (ok === reachable) return;
  reachable = ok;
  listeners.forEach((listener) => listener());
  if (!ok && pinging === undefined) {
    // retry until the server answers again; the pages then load what they could not
    pinging = window.setInterval(async () => {
      try {
        const reply = await fetch("/healthz", { cache: "no-store" });
        if (reply.ok) reportBack();
      } catch {
        /* still down */
      }
    }, PING_MS);
  }
}

function reportBack(): void {
  window.clearInterval(pinging);
  pinging = undefined;
  report(true);
}

/** fetch, noting whether Chirp answered (a proxy's 502-504 counts as no answer). */
function watchedFetch(token: string | null): typeof fetch {
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    if (token) headers.set("Authorization", `Bearer ${token}`);
    try {
      const reply = await fetch(input, { ...init, headers });
      report(reply.status < 502 || reply.status > 504);
      return reply;
    } catch (error) {
      report(false);
      throw error;
    }
  };
}

// --- the clients --------------------------------------------------------------------

export interface Clients {
  client: Client;
  dispose(): void;
}

export function makeClients(token: string | null): Clients {
  const endpoint = new URL("/graphql", location.href);
  const socketUrl = new URL(endpoint);
  socketUrl.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  const ws: WsClient = createWsClient({
    url: socketUrl.href,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    lazy: true,
    retryAttempts: Infinity,
    shouldRetry: () => true,
  });
  const client = new Client({
    url: endpoint.href,
    preferGetMethod: false,
    fetch: watchedFetch(token),
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? "" };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
  return { client, dispose: () => void ws.dispose() };
}

/** What went wrong, in sentences: GraphQL errors' messages, or the network's. */
export function errorMessages(error: CombinedError | undefined): string[] {
  if (!error) return [];
  if (error.networkError) return ["Can't reach Chirp — retrying…"];
  return error.graphQLErrors.map((e) => e.message);
}

export function isUnauthenticated(error: CombinedError | undefined): boolean {
  return !!error?.graphQLErrors.some((e) => e.extensions?.code === "UNAUTHENTICATED");
}

/** A fresh Idempotency-Key for one draft: a retried post is not posted twice. */
export function idempotencyKey(): string {
  return crypto.randomUUID();
}
