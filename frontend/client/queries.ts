// The operations the client runs: the public API only (schema.graphql, docs/api.md).
import { gql } from "urql";

export interface UserError {
  code: string;
  message: string;
  field: string | null;
}

export interface UserSummary {
  id: string;
  handle: string;
  displayName: string;
}

export interface Profile extends UserSummary {
  bio: string;
  followersCount: number;
  followingCount: number;
  tweetsCount: number;
  viewerFollows: boolean;
  followsViewer: boolean;
}

export interface Media {
  id: string;
  kind: "PHOTO" | "VIDEO" | "GIF";
  url: string;
  width: number | null;
  height: number | null;
}

export interface TweetBody {
  id: string;
  text: string;
  createdAt: string;
  author: UserSummary;
  likeCount: number;
  retweetCount: number;
  replyCount: number;
  viewerHasLiked: boolean;
  viewerHasRetweeted: boolean;
  media: Media[];
  inReplyTo: { id: string; author: UserSummary } | null;
}

export interface Tweet extends TweetBody {
  retweetOf: TweetBody | null;
}

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfo;
}

export interface Notification {
  id: string;
  kind: "FOLLOW" | "LIKE" | "RETWEET" | "REPLY" | "MENTION" | "QUOTE";
  createdAt: string;
  read: boolean;
  actor: UserSummary;
  tweet: (TweetBody & { author: UserSummary }) | null;
}

const USER = `id handle displayName`;
const BODY = `id text createdAt author { ${USER} } likeCount retweetCount replyCount
  viewerHasLiked viewerHasRetweeted media { id kind url width height }
  inReplyTo { id author { ${USER} } }`;
export const TWEET = `${BODY} retweetOf { ${BODY} }`;
const PAGE = `pageInfo { hasNextPage endCursor }`;
export const PROFILE = `${USER} bio followersCount followingCount tweetsCount viewerFollows followsViewer`;

export const ME = gql`
  query Me { me { ${USER} } }
`;

export const SIGN_UP = gql`
  mutation SignUp($input: SignUpInput!) {
    signUp(input: $input) { token user { ${USER} } errors { code message field } }
  }
`;

export const LOG_IN = gql`
  mutation LogIn($input: LogInInput!) {
    logIn(input: $input) { token user { ${USER} } errors { code message field } }
  }
`;

export const HOME = gql`
  query Home($after: String) {
    homeTimeline(first: 20, after: $after) { edges { cursor node { ${TWEET} } } ${PAGE} }
  }
`;

export const HOME_LIVE = gql`
  subscription HomeLive { homeTimeline { ${TWEET} } }
`;

export const CREATE_TWEET = gql`
  mutation Post($input: CreateTweetInput!) {
    createTweet(input: $input) { tweet { ${TWEET} } errors { code message field } }
  }
`;

const COUNTS = `id likeCount retweetCount viewerHasLiked viewerHasRetweeted`;
export const LIKE = gql`
  mutation Like($id: ID!) { likeTweet(tweetId: $id) { tweet { ${COUNTS} } errors { code message } } }
`;
export const UNLIKE = gql`
  mutation Unlike($id: ID!) { unlikeTweet(tweetId: $id) { tweet { ${COUNTS} } errors { code message } } }
`;
export const RETWEET = gql`
  mutation Retweet($id: ID!) {
    retweet(tweetId: $id) { tweet { id retweetOf { ${COUNTS} } } errors { code message } }
  }
`;
export const UNDO_RETWEET = gql`
  mutation UndoRetweet($id: ID!) { undoRetweet(tweetId: $id) { tweet { ${COUNTS} } errors { code message } } }
`;

export const USER_PAGE = gql`
  query UserPage($handle: String!) { user(handle: $handle) { ${PROFILE} } }
`;

export const USER_TWEETS = gql`
  query UserTweets($handle: String!, $after: String) {
    user(handle: $handle) {
      id tweets(first: 20, after: $after) { edges { cursor node { ${TWEET} } } ${PAGE} }
    }
  }
`;

export const FOLLOW = gql`
  mutation Follow($id: ID!) { followUser(userId: $id) { user { ${PROFILE} } errors { code message } } }
`;
export const UNFOLLOW = gql`
  mutation Unfollow($id: ID!) { unfollowUser(userId: $id) { user { ${PROFILE} } errors { code message } } }
`;

export const TWEET_PAGE = gql`
  query TweetPage($id: ID!) {
    tweet(id: $id) { ${TWEET} ancestors(last: 20) { ${TWEET} } }
  }
`;

export const REPLIES = gql`
  query Replies($id: ID!, $after: String) {
    tweet(id: $id) { id replies(first: 20, after: $after) { edges { cursor node { ${TWEET} } } ${PAGE} } }
  }
`;

export const UNREAD = gql`
  query Unread { notifications(first: 1) { unreadCount } }
`;

export const NOTIFICATIONS_LIVE = gql`
  subscription NotificationsLive { notifications { id kind } }
`;

export const NOTIFICATIONS = gql`
  query Notifications($after: String) {
    notifications(first: 20, after: $after) {
      unreadCount
      edges { cursor node { id kind createdAt read actor { ${USER} } tweet { ${BODY} } } }
      ${PAGE}
    }
  }
`;

export const MARK_READ = gql`
  mutation MarkRead { markNotificationsRead }
`;

export const SEARCH_TWEETS = gql`
  query SearchTweets($q: String!, $after: String) {
    search(query: $q, first: 20, after: $after) { edges { cursor node { ${TWEET} } } ${PAGE} }
  }
`;

export const SEARCH_PEOPLE = gql`
  query SearchPeople($q: String!) {
    searchUsers(query: $q, first: 5) { edges { node { ${USER} bio } } }
  }
`;
