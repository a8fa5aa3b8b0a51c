// The pages: home, sign-in, a profile, a tweet and its thread, notifications, search.
import { type FormEvent, type ReactNode, useEffect, useId, useRef, useState } from "react";
import { useMutation, useQuery, useSubscription } from "urql";

import { errorMessages } from "./api";
import {
  FOLLOW,
  HOME,
  HOME_LIVE,
  LOG_IN,
  MARK_READ,
  NOTIFICATIONS,
  REPLIES,
  SEARCH_PEOPLE,
  SEARCH_TWEETS,
  SIGN_UP,
  TWEET_PAGE,
  UNFOLLOW,
  USER_PAGE,
  USER_TWEETS,
  type Connection,
  type Notification,
  type Profile,
  type Tweet,
  type UserError,
  type UserSummary,
} from "./queries";
import { Link, navigate } from "./router";
import { Composer, Errors, FeedList, TweetCard, TweetText, payloadErrors, useFeed } from "./tweets";

export interface Session {
  token: string | null;
  me: UserSummary | null;
  signIn: (token: string, me: UserSummary) => void;
}

/** A page's heading, focused when the page opens (screen readers hear where they are). */
export function Page({ title, children }: { title: string; children: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = title === "Chirp" ? "Chirp" : `${title} · Chirp`;
    heading.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <>
      <h1 ref={heading} tabIndex={-1}>
        {title}
      </h1>
      {children}
    </>
  );
}

export function NotFound({ what = "page" }: { what?: string }) {
  return (
    <Page title="Not found">
      <p className="empty">This {what} doesn't exist (or no longer does).</p>
      <p>
        <Link to="/">Back home</Link>
      </p>
    </Page>
  );
}

// --- home --------------------------------------------------------------------------

export function Home({ session }: { session: Session }) {
  const feed = useFeed<Tweet, { homeTimeline: Connection<Tweet> }>(HOME, {}, (d) => d.homeTimeline);
  const [announcement, setAnnouncement] = useState("");
  // each tweet entering the home timeline, as it arrives: prepended, and announced
  useSubscription<{ homeTimeline: Tweet }>({ query: HOME_LIVE }, (_, event) => {
    feed.prepend(event.homeTimeline);
    if (event.homeTimeline.author.id !== session.me?.id) {
      setAnnouncement(`New tweet from @${event.homeTimeline.author.handle}`);
    }
    return event;
  });
  return (
    <Page title="Home">
      <Composer onPosted={feed.prepend} />
      <p className="visually-hidden" aria-live="polite">
        {announcement}
      </p>
      <FeedList
        feed={feed}
        label="Home timeline"
        empty="Nothing here yet: post something, or follow people."
        render={(tweet) => <TweetCard tweet={tweet} signedIn />}
      />
    </Page>
  );
}

// --- signing in --------------------------------------------------------------------

interface AuthData {
  token: string | null;
  user: UserSummary | null;
  errors: UserError[];
}

export function SignIn({ mode, session }: { mode: "login" | "signup"; session: Session }) {
  const [handle, setHandle] = useState("");
  const [password, setPassword] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [errors, setErrors] = useState<string[]>([]);
  const [state, run] = useMutation<{ logIn?: AuthData; signUp?: AuthData }>(
    mode === "login" ? LOG_IN : SIGN_UP,
  );
  const id = useId();
  const signingUp = mode === "signup";

  async function submit(event: FormEvent) {
    event.preventDefault();
    const input = signingUp
      ? { handle, password, ...(displayName.trim() ? { displayName } : {}) }
      : { handle, password };
    const result = await run({ input });
    const payload = result.data?.logIn ?? result.data?.signUp;
    setErrors([...errorMessages(result.error), ...payloadErrors(payload?.errors)]);
    if (payload?.token && payload.user) {
      session.signIn(payload.token, payload.user);
      navigate("/");
    }
  }

  return (
    <Page title={signingUp ? "Sign up for Chirp" : "Log in to Chirp"}>
      <form className="card auth" onSubmit={submit}>
        <label htmlFor={`${id}-handle`}>Handle</label>
        <input
          id={`${id}-handle`}
          value={handle}
          onChange={(e) => setHandle(e.target.value)}
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          required
          maxLength={15}
          aria-describedby={signingUp ? `${id}-handle-help` : undefined}
        />
        {signingUp && (
          <p id={`${id}-handle-help`} className="help">
            1 to 15 letters, digits or _.
          </p>
        )}
        {signingUp && (
          <>
            <label htmlFor={`${id}-name`}>Display name (optional)</label>
            <input
              id={`${id}-name`}
              value={displayName}
              onChange={(e) => setDisplayName(e.target.value)}
              autoComplete="name"
              maxLength={50}
            />
          </>
        )}
        <label htmlFor={`${id}-password`}>Password</label>
        <input
          id={`${id}-password`}
          type="password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          autoComplete={signingUp ? "new-password" : "current-password"}
          required
          aria-describedby={signingUp ? `${id}-password-help` : undefined}
        />
        {signingUp && (
          <p id={`${id}-password-help`} className="help">
            At least 8 characters.
          </p>
        )}
        <Errors messages={errors} />
        <button type="submit" className="primary" disabled={state.fetching}>
          {signingUp ? "Sign up" : "Log in"}
        </button>
        <p>
          {signingUp ? (
            <>
              Have an account? <Link to="/login">Log in</Link>
            </>
          ) : (
            <>
              New to Chirp? <Link to="/signup">Sign up</Link>
            </>
          )}
        </p>
      </form>
      {session.me && <p>You are signed in as @{session.me.handle}.</p>}
    </Page>
  );
}

// --- a profile ---------------------------------------------------------------------

function FollowButton({ user, onChange }: { user: Profile; onChange: (user: Profile) => void }) {
  const [state, follow] = useMutation(user.viewerFollows ? UNFOLLOW : FOLLOW);
  const [errors, setErrors] = useState<string[]>([]);
  async function toggle() {
    const result = await follow({ id: user.id });
    const payload = result.data && (Object.values(result.data)[0] as { user: Profile | null; errors: UserError[] });
    setErrors([...errorMessages(result.error), ...payloadErrors(payload?.errors)]);
    if (payload?.user) onChange(payload.user);
  }
  return (
    <>
      <button
        type="button"
        className={user.viewerFollows ? "secondary" : "primary"}
        aria-pressed={user.viewerFollows}
        disabled={state.fetching}
        onClick={toggle}
      >
        {user.viewerFollows ? "Following" : "Follow"}
        <span className="visually-hidden"> @{user.handle}</span>
      </button>
      <Errors messages={errors} />
    </>
  );
}

export function ProfilePage({ handle, session }: { handle: string; session: Session }) {
  const [{ data, error, fetching }] = useQuery<{ user: Profile | null }>({
    query: USER_PAGE,
    variables: { handle },
  });
  const [user, setUser] = useState<Profile | null>(null);
  useEffect(() => setUser(data?.user ?? null), [data]);
  const feed = useFeed<Tweet, { user: { tweets: Connection<Tweet> } | null }>(
    USER_TWEETS,
    { handle },
    (d) => d.user?.tweets,
  );
  if (fetching && !user) return <p className="loading">Loading…</p>;
  if (error && !data) return <Errors messages={errorMessages(error)} />;
  if (!user) return <NotFound what="account" />;
  const self = session.me?.id === user.id;
  return (
    <Page title={`${user.displayName} (@${user.handle})`}>
      <section className="card profile" aria-label="Profile">
        {user.bio && <TweetText text={user.bio} />}
        <ul className="stats">
          <li>
            <strong>{user.tweetsCount}</strong> Tweets
          </li>
          <li>
            <strong>{user.followingCount}</strong> Following
          </li>
          <li>
            <strong>{user.followersCount}</strong> Followers
          </li>
        </ul>
        {user.followsViewer && <p className="badge">Follows you</p>}
        {session.token && !self && <FollowButton user={user} onChange={setUser} />}
      </section>
      <FeedList
        feed={feed}
        label={`Tweets by @${user.handle}`}
        empty={`@${user.handle} hasn't tweeted yet.`}
        render={(tweet) => <TweetCard tweet={tweet} signedIn={!!session.token} />}
      />
    </Page>
  );
}

// --- a tweet and its thread --------------------------------------------------------

export function TweetPage({ handle, id, session }: { handle: string; id: string; session: Session }) {
  const [{ data, error, fetching }] = useQuery<{ tweet: (Tweet & { ancestors: Tweet[] }) | null }>({
    query: TWEET_PAGE,
    variables: { id },
  });
  const replies = useFeed<Tweet, { tweet: { replies: Connection<Tweet> } | null }>(
    REPLIES,
    { id },
    (d) => d.tweet?.replies,
  );
  const tweet = data?.tweet;
  useEffect(() => {
    // the address names the author: put the canonical one in the bar (as the server redirects)
    if (tweet && tweet.author.handle.toLowerCase() !== handle.toLowerCase()) {
      navigate(`/${tweet.author.handle}/status/${tweet.id}`, true);
    }
  }, [tweet, handle]);
  if (fetching && !data) return <p className="loading">Loading…</p>;
  if (error && !data) return <Errors messages={errorMessages(error)} />;
  if (!tweet) return <NotFound what="tweet" />;
  const signedIn = !!session.token;
  return (
    <Page title={`${tweet.author.displayName} on Chirp`}>
      {tweet.ancestors.length > 0 && (
        <ol className="items thread" aria-label="Earlier in the thread">
          {tweet.ancestors.map((a) => (
            <li key={a.id}>
              <TweetCard tweet={a} signedIn={signedIn} />
            </li>
          ))}
        </ol>
      )}
      <TweetCard tweet={tweet} signedIn={signedIn} focus />
      {signedIn && (
        <Composer replyTo={{ id: tweet.id, handle: tweet.author.handle }} onPosted={replies.prepend} />
      )}
      <h2>Replies</h2>
      <FeedList
        feed={replies}
        label="Replies"
        empty="No replies yet."
        render={(reply) => <TweetCard tweet={reply} signedIn={signedIn} />}
      />
    </Page>
  );
}

// --- notifications -----------------------------------------------------------------

const SAID: Record<Notification["kind"], string> = {
  FOLLOW: "followed you",
  LIKE: "liked your tweet",
  RETWEET: "retweeted your tweet",
  REPLY: "replied to you",
  MENTION: "mentioned you",
  QUOTE: "quoted your tweet",
};

export function NotificationsPage({ tick, onRead }: { tick: number; onRead: () => void }) {
  const feed = useFeed<Notification, { notifications: Connection<Notification> }>(
    NOTIFICATIONS,
    {},
    (d) => d.notifications,
  );
  const [marking, markRead] = useMutation(MARK_READ);
  const [errors, setErrors] = useState<string[]>([]);
  const { reload } = feed;
  useEffect(() => {
    if (tick > 0) reload(); // a new one arrived
  }, [tick, reload]);
  async function mark() {
    const result = await markRead({});
    setErrors(errorMessages(result.error));
    if (!result.error) {
      onRead();
      reload();
    }
  }
  return (
    <Page title="Notifications">
      <button type="button" className="secondary" onClick={mark} disabled={marking.fetching}>
        Mark all as read
      </button>
      <Errors messages={errors} />
      <FeedList
        feed={feed}
        label="Notifications"
        empty="No notifications yet."
        render={(n) => (
          <article className={n.read ? "notification" : "notification unread"}>
            <p>
              <Link to={`/${n.actor.handle}`}>
                <strong>{n.actor.displayName}</strong>
              </Link>{" "}
              {SAID[n.kind]}
              {!n.read && <span className="visually-hidden"> (unread)</span>}
            </p>
            {n.tweet && (
              <Link to={`/${n.tweet.author.handle}/status/${n.tweet.id}`} className="quoted">
                {n.tweet.text}
              </Link>
            )}
          </article>
        )}
      />
    </Page>
  );
}

// --- search ------------------------------------------------------------------------

function SearchResults({ q, signedIn }: { q: string; signedIn: boolean }) {
  const [people] = useQuery<{ searchUsers: Connection<UserSummary & { bio: string }> }>({
    query: SEARCH_PEOPLE,
    variables: { q },
  });
  const tweets = useFeed<Tweet, { search: Connection<Tweet> }>(SEARCH_TWEETS, { q }, (d) => d.search);
  const found = people.data?.searchUsers.edges ?? [];
  return (
    <>
      <section aria-label="People">
        <h2>People</h2>
        <Errors messages={errorMessages(people.error)} />
        {found.length === 0 && !people.fetching && !people.error && <p className="empty">No one found.</p>}
        <ul className="people">
          {found.map(({ node }) => (
            <li key={node.id}>
              <Link to={`/${node.handle}`}>
                <strong>{node.displayName}</strong> <span className="handle">@{node.handle}</span>
              </Link>
              {node.bio && <p>{node.bio}</p>}
            </li>
          ))}
        </ul>
      </section>
      <h2>Tweets</h2>
      <FeedList
        feed={tweets}
        label="Tweets found"
        empty="No tweets found."
        render={(tweet) => <TweetCard tweet={tweet} signedIn={signedIn} />}
      />
    </>
  );
}

export function SearchPage({ q, session }: { q: string; session: Session }) {
  const [text, setText] = useState(q);
  const id = useId();
  useEffect(() => setText(q), [q]);
  function submit(event: FormEvent) {
    event.preventDefault();
    if (text.trim()) navigate(`/search?q=${encodeURIComponent(text.trim())}`);
  }
  return (
    <Page title={q ? `Search: ${q}` : "Search"}>
      <form role="search" className="search" onSubmit={submit}>
        <label htmlFor={`${id}-q`}>Search tweets and people</label>
        <div className="row">
          <input id={`${id}-q`} type="search" value={text} onChange={(e) => setText(e.target.value)} />
          <button type="submit" className="primary">
            Search
          </button>
        </div>
        <p className="help">Words, "a phrase", #hashtag, from:handle, -word.</p>
      </form>
      {q && <SearchResults key={q} q={q} signedIn={!!session.token} />}
    </Page>
  );
}
