// A pipeline file is untrusted input: a few hundred bytes of nested anchors and merge
// keys (`x1: &a1 {<<: [*a0, *a0, ...]}` a few levels deep) expand to millions of values
// and took the parser tens of seconds. Before anything reads a document, this counts the
// values its aliases would add, in time linear in the document's size (each anchored
// node is measured once), and stops at a limit no real pipeline comes near.
import { type Document, isAlias, isMap, isPair, isSeq, type Node } from 'yaml';

/** How many values aliases and merge keys may add to one document beyond those written in it. */
export const MAX_ALIAS_EXPANSION = 10_000;

export interface ExpansionProblem {
  /** Where to point: the alias that went over the limit. */
  node: Node;
  message: string;
}

class TooMuch extends Error {
  constructor(readonly problem: ExpansionProblem) {
    super(problem.message);
  }
}

/**
 * Undefined when the document is within the limit; else the alias that went over it. How deep
 * the document nests was bounded before it was parsed (file-limits.ts), which also bounds this
 * walk's recursion: each anchored node is measured where it is written, before any alias to it.
 */
export function expansionProblem(doc: Document, limit = MAX_ALIAS_EXPANSION): ExpansionProblem | undefined {
  const sizes = new Map<Node, number>();
  const visiting = new Set<Node>();
  let added = 0;

  const size = (node: unknown): number => {
    if (!node || typeof node !== 'object') return 1;
    if (isPair(node)) return size(node.key) + size(node.value);
    const n = node as Node;
    if (isAlias(n)) {
      const target = n.resolve(doc);
      const expanded = target && !visiting.has(target) ? size(target) : 1;
      added += expanded;
      if (added > limit) {
        throw new TooMuch({
          node: n,
          message: `the file's anchors and merge keys expand to more than ${limit} values (an alias or merge bomb?); write the repeated values out, or nest fewer aliases`,
        });
      }
      return expanded;
    }
    const known = sizes.get(n);
    if (known !== undefined) return known;
    let total = 1;
    if (isMap(n) || isSeq(n)) {
      visiting.add(n);
      for (const item of n.items) total += size(item);
      visiting.delete(n);
    }
    sizes.set(n, total);
    return total;
  };

  try {
    size(doc.contents);
    return undefined;
  } catch (err) {
    if (err instanceof TooMuch) return err.problem;
    throw err;
  }
}
