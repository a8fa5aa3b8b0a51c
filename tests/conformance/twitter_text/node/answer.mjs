// twitter-text's answers for texts, one JSON line in, one JSON line out, until stdin closes.
//
//   node tests/conformance/twitter_text/node/answer.mjs [npm folder]
//
// Each input line is a JSON string (a text); each output line is a JSON object with
// twitter-text's parseTweet (config v3) and its extractions, their indices (UTF-16 code units)
// converted to code points, Python's string indices. (twitter-text's own
// modifyIndicesFromUTF16ToUnicode converts where an entity starts, then adds its UTF-16 length.)
// The npm folder, where the pinned package.json of this folder is installed, defaults to
// tests/.npm/twitter-text (tests/conformance/test_twitter_text_npm.py installs it there).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import readline from 'node:readline';

const here = path.dirname(fileURLToPath(import.meta.url));
const [folder = path.join(here, '..', '..', '..', '.npm', 'twitter-text')] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(folder), 'package.json'));
const twttr = require('twitter-text');
const { version } = require('twitter-text/package.json');
if (version !== '3.1.0') throw new Error(`twitter-text ${version}, not 3.1.0`);

const unicode = (text, entities) => {
  const codePoints = (index) => Array.from(text.slice(0, index)).length;
  for (const entity of entities) entity.indices = entity.indices.map(codePoints);
  return entities;
};

function answer(text) {
  const parsed = twttr.parseTweet(text);
  return {
    weightedLength: parsed.weightedLength,
    valid: parsed.valid,
    permillage: parsed.permillage,
    urls: unicode(text, twttr.extractUrlsWithIndices(text)).map((u) => [u.url, ...u.indices]),
    mentionsOrLists: unicode(text, twttr.extractMentionsOrListsWithIndices(text)).map((m) => [
      m.screenName,
      m.listSlug,
      ...m.indices,
    ]),
    mentions: twttr.extractMentions(text),
    // what twitter-text links: every entity, those overlapping an earlier one dropped
    linkedMentions: twttr
      .extractEntitiesWithIndices(text)
      .filter((e) => e.screenName !== undefined && !e.listSlug)
      .map((e) => e.screenName),
    hashtags: unicode(text, twttr.extractHashtagsWithIndices(text)).map((h) => [h.hashtag, ...h.indices]),
  };
}

const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  process.stdout.write(JSON.stringify(answer(JSON.parse(line))) + '\n');
}
