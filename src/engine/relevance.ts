// What counts as a match, and how relevant a result reads to people.
//
// Raw CLIP cosines are not readable: a clear text match scores about 0.3 and an unrelated image
// about 0.1, and the band moves with the model and with the kind of comparison (text → image, or
// image → image for find similar, where even unrelated photos score 0.4 or more). Each model
// therefore names three cosines per kind in the registry (ModelSpec.relevance):
//
//   unrelated  what an unrelated pair typically scores       → 0 % relevance
//   floor      below this nothing is a match, whatever the page's other scores are
//   clear      what an evident match scores                  → 100 % relevance
//
// Relevance is the cosine placed linearly between `unrelated` and `clear`, clamped to 0..100 %.
//
// A result is a match when it passes the absolute floor AND stands out on this page:
//   - it is a clear match itself (score ≥ clear), or
//   - it is within NEAR_BEST of the page's best score (near-equal scores are judged alike), or
//   - with more than two results, it is above the page's typical score (mean + 1 standard deviation).
// The floor alone would call every image a match on a page of similar photos; standing out alone
// would always promote the best of bad scores (a nonsense query "matched" something). Both are needed.

/** Three cosines of one kind of comparison for one model (see above). */
export interface RelevanceScale {
  unrelated: number;
  floor: number;
  clear: number;
}

/** A model's scales for text → image search and image → image similarity. */
export interface ModelRelevance {
  text: RelevanceScale;
  image: RelevanceScale;
}

/** "Close to the best", as a share of the scale's span (unrelated → clear). */
export const NEAR_BEST = 0.1;

/**
 * Ordering compares scores rounded to this step (the cosine as the popup prints it): embeddings
 * are stored as float16 and backends differ in their last bits, which moves cosines in the 4th
 * decimal; images that score the same must not swap on that, so ties keep the page's own order.
 * Rounding (rather than "closer than ε") keeps the comparison transitive, as sort needs.
 */
export const SCORE_STEP = 1e-3;

/** 0..1: where a cosine sits between the scale's unrelated and clear points. */
export function relevance(score: number, scale: RelevanceScale): number {
  const span = scale.clear - scale.unrelated;
  if (!(span > 0)) return score >= scale.clear ? 1 : 0;
  return Math.min(1, Math.max(0, (score - scale.unrelated) / span));
}

/** Which of the page's scores are matches (see the rule above); any order, answers in the same order. */
export function judgeMatches(scores: readonly number[], scale: RelevanceScale): boolean[] {
  if (scores.length === 0) return [];
  const best = Math.max(...scores);
  const n = scores.length;
  const mean = scores.reduce((s, x) => s + x, 0) / n;
  const sd = Math.sqrt(scores.reduce((s, x) => s + (x - mean) ** 2, 0) / n);
  const near = NEAR_BEST * (scale.clear - scale.unrelated);
  return scores.map(
    (score) => score >= scale.floor && (score >= scale.clear || score >= best - near || (n > 2 && score >= mean + sd)),
  );
}

/** Best first; scores equal to SCORE_STEP keep their input order (callers pass the page's order). */
export function compareScores(a: number, b: number): number {
  return Math.round(b / SCORE_STEP) - Math.round(a / SCORE_STEP);
}

/** Whether a scale is usable: ordered unrelated < floor ≤ clear within the cosine range. */
export function isValidScale(s: RelevanceScale): boolean {
  return -1 <= s.unrelated && s.unrelated < s.floor && s.floor <= s.clear && s.clear <= 1;
}
