// A very small router: the address is the state (history.pushState), links are links.
import { type AnchorHTMLAttributes, type MouseEvent, useSyncExternalStore } from "react";

const NAVIGATED = "chirp:navigate";

function current(): string {
  return location.pathname + location.search;
}

function subscribe(listener: () => void): () => void {
  window.addEventListener("popstate", listener);
  window.addEventListener(NAVIGATED, listener);
  return () => {
    window.removeEventListener("popstate", listener);
    window.removeEventListener(NAVIGATED, listener);
  };
}

/** The current path and query string; re-renders on every navigation. */
export function useLocation(): URL {
  const href = useSyncExternalStore(subscribe, current);
  return new URL(href, location.origin);
}

export function navigate(to: string, replace = false): void {
  if (to === current()) return;
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  window.scrollTo(0, 0);
  window.dispatchEvent(new Event(NAVIGATED));
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { to: string };

/** An <a href> that navigates in place (a modified or middle click opens a tab, as ever). */
export function Link({ to, onClick, children, ...rest }: LinkProps) {
  function follow(event: MouseEvent<HTMLAnchorElement>) {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  }
  return (
    <a href={to} onClick={follow} {...rest}>
      {children}
    </a>
  );
}

export type Route =
  | { page: "home" }
  | { page: "login" }
  | { page: "signup" }
  | { page: "notifications" }
  | { page: "search"; q: string }
  | { page: "profile"; handle: string }
  | { page: "tweet"; handle: string; id: string }
  | { page: "missing" };

const HANDLE = "([A-Za-z0-9_]{1,15})";

/** The page an address shows: the same addresses the server answers (web/client.py). */
export function route(url: URL): Route {
  const path = url.pathname;
  if (path === "/") return { page: "home" };
  if (path === "/login") return { page: "login" };
  if (path === "/signup") return { page: "signup" };
  if (path === "/notifications") return { page: "notifications" };
  if (path === "/search") return { page: "search", q: url.searchParams.get("q") ?? "" };
  let found = new RegExp(`^/${HANDLE}/status/([0-9]{1,19})$`).exec(path);
  if (found) return { page: "tweet", handle: found[1], id: found[2] };
  found = new RegExp(`^/${HANDLE}$`).exec(path);
  if (found) return { page: "profile", handle: found[1] };
  return { page: "missing" };
}

export function tweetPath(handle: string, id: string): string {
  return `/${handle}/status/${id}`;
}
