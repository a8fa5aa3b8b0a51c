// Tweets: how one is shown, the composer with its twitter-text counter, and feeds that
// page with `after: endCursor` as their end scrolls into view.
import * as imported from "twitter-text";
import {
  type FormEvent,
  type ReactNode,
  useCallback,
  useEffect,
  useId,
  useRef,
  useState,
  useSyncExternalStore,
} from "react";
import { type AnyVariables, type DocumentInput, useClient, useMutation } from "urql";

import { connection, errorMessages, idempotencyKey } from "./api";
import {
  CREATE_TWEET,
  LIKE,
  RETWEET,
  UNDO_RETWEET,
  UNLIKE,
  type Connection,
  type Tweet,
  type TweetBody,
  type UserError,
} from "./queries";
import { Link, tweetPath } from "./router";

// twitter-text's ESM build has one default export (its types name each function): the
// same library, version 3.1.0, that the server's rules were ported from (core/twitter_text.py)
const twitterText: typeof imported =
  (imported as unknown as { default?: typeof imported }).default ?? imported;
const MAX_WEIGHTED = 280;

export function useReachable(): boolean {
  return useSyncExternalStore(connection.subscribe, connection.reachable);
}

export function Errors({ messages }: { messages: string[] }) {
  if (messages.length === 0) return null;
  return (
    <div className="errors" role="alert">
      {messages.map((message) => (
        <p key={message}>{message}</p>
      ))}
    </div>
  );
}

export function payloadErrors(errors: UserError[] | undefined): string[] {
  return (errors ?? []).map((e) => e.message);
}

// --- one tweet ---------------------------------------------------------------------

/** The text with its mentions, hashtags and URLs as links (twitter-text finds them). */
export function TweetText({ text }: { text: string }) {
  const parts: ReactNode[] = [];
  let at = 0;
  for (const entity of twitterText.extractEntitiesWithIndices(text)) {
    const [start, end] = entity.indices;
    if (start > at) parts.push(text.slice(at, start));
    const shown = text.slice(start, end);
    if ("screenName" in entity) {
      parts.push(
        <Link key={start} to={`/${entity.screenName}`}>
          {shown}
        </Link>,
      );
    } else if ("hashtag" in entity) {
      parts.push(
        <Link key={start} to={`/search?q=${encodeURIComponent(`#${entity.hashtag}`)}`}>
          {shown}
        </Link>,
      );
    } else if ("url" in entity) {
      const href = /^https?:\/\//i.test(entity.url) ? entity.url : `https://${entity.url}`;
      parts.push(
        <a key={start} href={href} rel="noopener noreferrer nofollow" target="_blank">
          {shown}
        </a>,
      );
    } else {
      parts.push(shown);
    }
    at = end;
  }
  if (at < text.length) parts.push(text.slice(at));
  return <p className="text">{parts}</p>;
}

function ago(iso: string): string {
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 60) return `${Math.floor(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  return new Date(iso).toLocaleDateString(undefined, { month: "short", day: "numeric" });
}

interface Counts {
  likeCount: number;
  retweetCount: number;
  viewerHasLiked: boolean;
  viewerHasRetweeted: boolean;
}

function Actions({ tweet, signedIn }: { tweet: TweetBody; signedIn: boolean }) {
  const [counts, setCounts] = useState<Counts>(tweet);
  const [errors, setErrors] = useState<string[]>([]);
  const [, like] = useMutation(LIKE);
  const [, unlike] = useMutation(UNLIKE);
  const [, retweet] = useMutation(RETWEET);
  const [, undo] = useMutation(UNDO_RETWEET);
  const [busy, setBusy] = useState(false);

  async function run(act: "like" | "retweet") {
    setBusy(true);
    const mutate =
      act === "like" ? (counts.viewerHasLiked ? unlike : like) : counts.viewerHasRetweeted ? undo : retweet;
    const result = await mutate({ id: tweet.id });
    setBusy(false);
    const payload = result.data && Object.values(result.data)[0];
    const messages = [...errorMessages(result.error), ...payloadErrors(payload?.errors)];
    setErrors(messages);
    const updated = payload?.tweet?.retweetOf ?? payload?.tweet;
    if (updated) setCounts(updated as Counts);
  }

  return (
    <div className="actions">
      <Link to={tweetPath(tweet.author.handle, tweet.id)} className="action">
        Reply <span className="count">{tweet.replyCount}</span>
      </Link>
      <button
        type="button"
        className="action"
        aria-pressed={counts.viewerHasRetweeted}
        disabled={!signedIn || busy}
        onClick={() => run("retweet")}
      >
        {counts.viewerHasRetweeted ? "Retweeted" : "Retweet"}{" "}
        <span className="count">{counts.retweetCount}</span>
      </button>
      <button
        type="button"
        className="action like"
        aria-pressed={counts.viewerHasLiked}
        disabled={!signedIn || busy}
        onClick={() => run("like")}
      >
        {counts.viewerHasLiked ? "Liked" : "Like"} <span className="count">{counts.likeCount}</span>
      </button>
      <Errors messages={errors} />
    </div>
  );
}

export function TweetCard({
  tweet,
  signedIn,
  focus = false,
}: {
  tweet: Tweet;
  signedIn: boolean;
  focus?: boolean;
}) {
  const shown: TweetBody = tweet.retweetOf ?? tweet;
  const path = tweetPath(shown.author.handle, shown.id);
  return (
    <article className={focus ? "tweet focus" : "tweet"} aria-label={`Tweet by @${shown.author.handle}`}>
      {tweet.retweetOf && (
        <p className="context">
          <Link to={`/${tweet.author.handle}`}>{tweet.author.displayName}</Link> retweeted
        </p>
      )}
      <header>
        <Link to={`/${shown.author.handle}`} className="author">
          <strong>{shown.author.displayName}</strong> <span className="handle">@{shown.author.handle}</span>
        </Link>
        <span aria-hidden="true"> · </span>
        <Link to={path} className="when">
          <time dateTime={shown.createdAt} title={new Date(shown.createdAt).toLocaleString()}>
            {ago(shown.createdAt)}
          </time>
        </Link>
      </header>
      {shown.inReplyTo && (
        <p className="context">
          Replying to <Link to={`/${shown.inReplyTo.author.handle}`}>@{shown.inReplyTo.author.handle}</Link>
        </p>
      )}
      <TweetText text={shown.text} />
      {shown.media.length > 0 && (
        <div className="media">
          {shown.media.map((m) =>
            m.kind === "VIDEO" ? (
              <video key={m.id} src={m.url} controls preload="metadata" />
            ) : (
              <img key={m.id} src={m.url} alt="" width={m.width ?? undefined} height={m.height ?? undefined} />
            ),
          )}
        </div>
      )}
      <Actions tweet={shown} signedIn={signedIn} />
    </article>
  );
}

// --- posting -----------------------------------------------------------------------

export function Composer({
  replyTo,
  onPosted,
}: {
  replyTo?: { id: string; handle: string };
  onPosted?: (tweet: Tweet) => void;
}) {
  const [text, setText] = useState("");
  const [errors, setErrors] = useState<string[]>([]);
  const [state, post] = useMutation(CREATE_TWEET);
  const key = useRef(idempotencyKey());
  const id = useId();
  const parsed = twitterText.parseTweet(text);
  const remaining = MAX_WEIGHTED - parsed.weightedLength;
  const canPost = parsed.valid && text.trim() !== "" && !state.fetching;
  const label = replyTo ? `Reply to @${replyTo.handle}` : "What's happening?";

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!canPost) return;
    const input = replyTo ? { text, inReplyToId: replyTo.id } : { text };
    const result = await post(
      { input },
      { fetchOptions: { headers: { "Idempotency-Key": key.current } } },
    );
    const payload = result.data?.createTweet;
    const messages = [...errorMessages(result.error), ...payloadErrors(payload?.errors)];
    setErrors(messages);
    if (payload?.tweet) {
      setText("");
      key.current = idempotencyKey(); // the next draft is another tweet
      onPosted?.(payload.tweet);
    }
  }

  return (
    <form className="composer" onSubmit={submit}>
      <label htmlFor={`${id}-text`}>{label}</label>
      <textarea
        id={`${id}-text`}
        value={text}
        rows={3}
        onChange={(e) => {
          setText(e.target.value);
          key.current = idempotencyKey(); // an edited draft is a new request
        }}
        aria-describedby={`${id}-count`}
      />
      <div className="row">
        <span
          id={`${id}-count`}
          className={remaining < 0 ? "counter over" : remaining <= 20 ? "counter near" : "counter"}
        >
          {remaining} characters left
        </span>
        <button type="submit" className="primary" disabled={!canPost}>
          {replyTo ? "Reply" : "Post"}
        </button>
      </div>
      <Errors messages={errors} />
    </form>
  );
}

// --- feeds -------------------------------------------------------------------------

interface Feed<T> {
  items: T[];
  loading: boolean;
  hasMore: boolean;
  errors: string[];
  loadMore: () => void;
  prepend: (item: T) => void;
  reload: () => void;
}

/**
 * A list read page by page: `pick` finds the connection in an answer; each next page asks
 * for `after: endCursor`. Items are kept once each (by id), newest first.
 */
export function useFeed<T extends { id: string }, Data>(
  query: DocumentInput<Data, AnyVariables>,
  variables: Record<string, unknown>,
  pick: (data: Data) => Connection<T> | null | undefined,
): Feed<T> {
  const client = useClient();
  const [items, setItems] = useState<T[]>([]);
  const [loading, setLoading] = useState(false);
  const [errors, setErrors] = useState<string[]>([]);
  const [hasMore, setHasMore] = useState(true);
  const cursor = useRef<string | null>(null);
  const busy = useRef(false);
  const generation = useRef(0);
  const reachable = useReachable();
  const varsKey = JSON.stringify(variables);

  const loadMore = useCallback(async () => {
    if (busy.current) return;
    busy.current = true;
    const mine = generation.current;
    setLoading(true);
    const result = await client
      .query(query, { ...JSON.parse(varsKey), after: cursor.current }, { requestPolicy: "network-only" })
      .toPromise();
    busy.current = false;
    if (mine !== generation.current) return; // the variables changed meanwhile
    setLoading(false);
    setErrors(errorMessages(result.error));
    const page = result.data ? pick(result.data) : null;
    if (!page) {
      if (result.data) setHasMore(false);
      return;
    }
    cursor.current = page.pageInfo.endCursor;
    setHasMore(page.pageInfo.hasNextPage);
    setItems((old) => {
      const seen = new Set(old.map((item) => item.id));
      return [...old, ...page.edges.map((edge) => edge.node).filter((node) => !seen.has(node.id))];
    });
  }, [client, query, varsKey]);

  const reload = useCallback(() => {
    generation.current += 1;
    busy.current = false;
    cursor.current = null;
    setItems([]);
    setHasMore(true);
    void loadMore();
  }, [loadMore]);

  useEffect(reload, [reload]);

  // back online after a failure: try again
  useEffect(() => {
    if (reachable && errors.length > 0) void loadMore();
  }, [reachable]);

  const prepend = useCallback((item: T) => {
    setItems((old) => (old.some((o) => o.id === item.id) ? old : [item, ...old]));
  }, []);

  return { items, loading, hasMore, errors, loadMore: () => void loadMore(), prepend, reload };
}

/** Calls `onVisible` whenever the element scrolls into (or near) view. */
function Sentinel({ onVisible }: { onVisible: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  const callback = useRef(onVisible);
  callback.current = onVisible;
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) callback.current();
      },
      { rootMargin: "200px" },
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return <div ref={ref} className="sentinel" aria-hidden="true" />;
}

export function FeedList<T extends { id: string }>({
  feed,
  label,
  empty,
  render,
}: {
  feed: Feed<T>;
  label: string;
  empty: string;
  render: (item: T) => ReactNode;
}) {
  return (
    <section aria-label={label} className="feed">
      <Errors messages={feed.errors} />
      {feed.items.length === 0 && !feed.loading && !feed.hasMore && feed.errors.length === 0 && (
        <p className="empty">{empty}</p>
      )}
      <ol className="items">
        {feed.items.map((item) => (
          <li key={item.id}>{render(item)}</li>
        ))}
      </ol>
      {feed.loading && <p className="loading">Loading…</p>}
      {feed.hasMore && !feed.loading && feed.errors.length === 0 && (
        <>
          <Sentinel onVisible={feed.loadMore} />
          <button type="button" className="more" onClick={feed.loadMore}>
            Load more
          </button>
        </>
      )}
    </section>
  );
}
