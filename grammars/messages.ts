// Syntax error messages of the parser, in words a user of the language reads.
import type { IParserErrorMessageProvider, IToken, TokenType } from "chevrotain";

/** What a rule stands for, in words, for "expected ..." messages. */
const RULE_WORDS: Record<string, string> = {
  file: "`version`, `import`, `block` or `model`",
  topItem: "`import`, `block` or `model`",
  stmt: "a statement (`name = ...`, `save`, `for`, `if`, `require`, `input` or `return`)",
  typeAtom: "a type (`int`, `float`, `bool`, `str`, `[int]` or a string)",
  primary: "an expression",
  notExpr: "an expression",
  unaryExpr: "an expression",
  seqItem: "a layer call, `if` or `}`",
  cmpExpr: "a comparison operator",
};

function describe(t: IToken): string {
  if (t.tokenType.name === "EOF") return "the end of the file";
  return `\`${t.image}\``;
}

function tokenWords(t: TokenType): string {
  // The end of input is expected only after the last top-level item.
  if (t.name === "EOF") return RULE_WORDS.topItem;
  const label = t.LABEL ?? t.name;
  return label === "Identifier" ? "a name" : label;
}

/** Every syntax message reads "expected WHAT, found TOKEN"; parse.ts relies on that form. */
export const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual }) => `expected ${tokenWords(expected)}, found ${describe(actual)}`,
  buildNotAllInputParsedMessage: ({ firstRedundant }) => `expected ${RULE_WORDS.topItem}, found ${describe(firstRedundant)}`,
  buildNoViableAltMessage: ({ actual, ruleName, expectedPathsPerAlt }) => {
    const words = RULE_WORDS[ruleName];
    const firsts = [...new Set(expectedPathsPerAlt.flatMap((alt) => alt.map((path) => (path[0] ? tokenWords(path[0]) : ""))))].filter(Boolean);
    const what = words ?? (firsts.length <= 6 ? `one of ${firsts.join(", ")}` : "something else");
    return `expected ${what}, found ${describe(actual[0])}`;
  },
  buildEarlyExitMessage: ({ actual, ruleName }) => `expected ${RULE_WORDS[ruleName] ?? "more input"}, found ${describe(actual[0])}`,
};
