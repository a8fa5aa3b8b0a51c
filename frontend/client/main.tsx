// Chirp's web client: an example app on the public GraphQL API, served at / by the server
// (web/client.py) from the bundle frontend/build.mjs makes of this file.
import { useCallback, useEffect, useMemo, useState } from "react";
import { createRoot } from "react-dom/client";
import { Provider, useQuery, useSubscription } from "urql";

import { errorMessages, isUnauthenticated, makeClients, saveToken, savedToken } from "./api";
import {
  Home,
  NotFound,
  NotificationsPage,
  ProfilePage,
  SearchPage,
  type Session,
  SignIn,
  TweetPage,
} from "./pages";
import { ME, NOTIFICATIONS_LIVE, UNREAD, type UserSummary } from "./queries";
import { Link, navigate, route, useLocation } from "./router";
import { Errors, useReachable } from "./tweets";

import "./style.css";

function OfflineBanner() {
  const reachable = useReachable();
  return (
    <div className="banner-slot" role="status" aria-live="assertive">
      {!reachable && <p className="banner">Can't reach Chirp — retrying…</p>}
    </div>
  );
}

/** The unread count, kept live by the `notifications` subscription. */
function useUnread(signedIn: boolean): { unread: number; tick: number; refresh: () => void } {
  const [{ data }, refetch] = useQuery<{ notifications: { unreadCount: number } }>({
    query: UNREAD,
    pause: !signedIn,
    requestPolicy: "network-only",
  });
  const refresh = useCallback(() => refetch({ requestPolicy: "network-only" }), [refetch]);
  const [{ data: tick = 0 }] = useSubscription<{ notifications: { id: string } }, number>(
    { query: NOTIFICATIONS_LIVE, pause: !signedIn },
    (count = 0) => count + 1,
  );
  useEffect(() => {
    if (tick > 0) refresh();
  }, [tick, refresh]);
  return { unread: data?.notifications.unreadCount ?? 0, tick, refresh };
}

function Nav({ session, unread, signOut }: { session: Session; unread: number; signOut: () => void }) {
  return (
    <nav aria-label="Main">
      <Link to="/" className="brand">
        Chirp
      </Link>
      <ul>
        {session.token ? (
          <>
            <li>
              <Link to="/">Home</Link>
            </li>
            <li>
              <Link to="/notifications">
                Notifications
                {unread > 0 && (
                  <span className="unread" aria-label={`${unread} unread`}>
                    {unread}
                  </span>
                )}
              </Link>
            </li>
            <li>
              <Link to="/search">Search</Link>
            </li>
            {session.me && (
              <li>
                <Link to={`/${session.me.handle}`}>Profile</Link>
              </li>
            )}
            <li>
              <button type="button" className="link" onClick={signOut}>
                Log out{session.me ? ` @${session.me.handle}` : ""}
              </button>
            </li>
          </>
        ) : (
          <>
            <li>
              <Link to="/search">Search</Link>
            </li>
            <li>
              <Link to="/login">Log in</Link>
            </li>
            <li>
              <Link to="/signup">Sign up</Link>
            </li>
          </>
        )}
      </ul>
    </nav>
  );
}

function Shell({ session, signOut }: { session: Session; signOut: () => void }) {
  const url = useLocation();
  const where = route(url);
  const signedIn = !!session.token;
  const { unread, tick, refresh } = useUnread(signedIn);
  const [me] = useQuery<{ me: UserSummary | null }>({ query: ME, pause: !signedIn || !!session.me });
  const expired = isUnauthenticated(me.error);
  useEffect(() => {
    if (expired) signOut();
  }, [expired, signOut]);
  useEffect(() => {
    if (me.data?.me && !session.me) session.signIn(session.token ?? "", me.data.me);
  }, [me.data, session]);
  const needsSession = where.page === "home" || where.page === "notifications";
  useEffect(() => {
    if (!signedIn && where.page === "notifications") navigate("/login", true);
  }, [signedIn, where.page]);

  let page;
  if (needsSession && !signedIn) page = <SignIn mode="login" session={session} />;
  else if (where.page === "home") page = <Home session={session} />;
  else if (where.page === "login" || where.page === "signup")
    page = <SignIn key={where.page} mode={where.page} session={session} />;
  else if (where.page === "notifications") page = <NotificationsPage tick={tick} onRead={refresh} />;
  else if (where.page === "search") page = <SearchPage q={where.q} session={session} />;
  else if (where.page === "profile")
    page = <ProfilePage key={where.handle.toLowerCase()} handle={where.handle} session={session} />;
  else if (where.page === "tweet")
    page = <TweetPage key={where.id} handle={where.handle} id={where.id} session={session} />;
  else page = <NotFound />;

  return (
    <>
      <a href="#main" className="skip">
        Skip to content
      </a>
      <header className="top">
        <Nav session={session} unread={unread} signOut={signOut} />
      </header>
      <OfflineBanner />
      <main id="main">
        {me.error && !expired && <Errors messages={errorMessages(me.error)} />}
        {page}
      </main>
    </>
  );
}

function App() {
  const [token, setToken] = useState<string | null>(savedToken);
  const [me, setMe] = useState<UserSummary | null>(null);
  const clients = useMemo(() => makeClients(token), [token]);
  useEffect(() => () => clients.dispose(), [clients]);
  const signIn = useCallback((newToken: string, user: UserSummary) => {
    saveToken(newToken);
    setToken(newToken);
    setMe(user);
  }, []);
  const signOut = useCallback(() => {
    saveToken(null);
    setToken(null);
    setMe(null);
    navigate("/login");
  }, []);
  const session = useMemo<Session>(() => ({ token, me, signIn }), [token, me, signIn]);
  return (
    <Provider value={clients.client}>
      <Shell key={token ?? "anonymous"} session={session} signOut={signOut} />
    </Provider>
  );
}

const root = document.getElementById("root");
if (root === null) throw new Error("no #root element on the page");
createRoot(root).render(<App />);
