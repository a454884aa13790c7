// Tokens of the .unet language. Keywords come before Identifier and use longer_alt so that
// `input_size` lexes as one identifier, not the keyword `input` followed by `_size`.
import { createToken, Lexer, type TokenType } from "chevrotain";

export const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED });
export const Comment = createToken({ name: "Comment", pattern: /#[^\n]*/, group: Lexer.SKIPPED });
export const Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_][A-Za-z0-9_]*/ });

const keyword = (word: string) =>
  createToken({ name: word[0].toUpperCase() + word.slice(1), pattern: new RegExp(`${word}\\b`), longer_alt: Identifier, label: `\`${word}\`` });

export const Version = keyword("version");
export const Import = keyword("import");
export const Block = keyword("block");
export const Model = keyword("model");
export const Input = keyword("input");
export const Return = keyword("return");
export const Save = keyword("save");
export const Skip = keyword("skip");
export const For = keyword("for");
export const In = keyword("in");
export const As = keyword("as");
export const If = keyword("if");
export const Else = keyword("else");
export const Seq = keyword("seq");
export const Require = keyword("require");
export const True = keyword("true");
export const False = keyword("false");
export const None = keyword("none");
export const And = keyword("and");
export const Or = keyword("or");
export const Not = keyword("not");

export const Float = createToken({ name: "Float", pattern: /\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+/, label: "a number" });
export const Int = createToken({ name: "Int", pattern: /\d+/, label: "an integer" });
export const StringLit = createToken({ name: "StringLit", pattern: /"[^"\n]*"/, label: "a string" });
/** A string with no closing `"` on its line: it takes the rest of the line and stands in for a string,
 *  so the parser goes on as if it were closed and only the missing `"` is reported. */
export const UnterminatedString = createToken({ name: "UnterminatedString", pattern: /"[^"\n]*/, categories: [StringLit], label: "a string" });

/** `//` that starts a line (after indentation) and is followed by a space or the line's end: a C-style comment, which
 *  .unet does not have. It is lexed apart (group `badComments`, not seen by the parser) so the
 *  rest of the file still parses and one error says that comments start with `#`. */
const SLASH_COMMENT = /\/\/(?=[ \t\r\n/]|$)[^\n]*/y;
export const SlashComment = createToken({
  name: "SlashComment",
  pattern: {
    exec: (text: string, offset: number) => {
      for (let i = offset - 1; i >= 0 && text[i] !== "\n"; i--) if (text[i] !== " " && text[i] !== "\t") return null;
      SLASH_COMMENT.lastIndex = offset;
      return SLASH_COMMENT.exec(text);
    },
  },
  start_chars_hint: ["/"],
  line_breaks: false,
  group: "badComments",
});

const punct = (name: string, pattern: RegExp, label: string) => createToken({ name, pattern, label: `\`${label}\`` });
export const Pipe = punct("Pipe", /\|>/, "|>");
export const Bar = punct("Bar", /\|/, "|");
export const LParen = punct("LParen", /\(/, "(");
export const RParen = punct("RParen", /\)/, ")");
export const LBrace = punct("LBrace", /\{/, "{");
export const RBrace = punct("RBrace", /\}/, "}");
export const LBracket = punct("LBracket", /\[/, "[");
export const RBracket = punct("RBracket", /\]/, "]");
export const Comma = punct("Comma", /,/, ",");
export const Colon = punct("Colon", /:/, ":");
export const Semi = punct("Semi", /;/, ";");
export const EqEq = punct("EqEq", /==/, "==");
export const NotEq = punct("NotEq", /!=/, "!=");
export const LtEq = punct("LtEq", /<=/, "<=");
export const GtEq = punct("GtEq", />=/, ">=");
export const Lt = punct("Lt", /</, "<");
export const Gt = punct("Gt", />/, ">");
export const Assign = punct("Assign", /=/, "=");
export const Power = punct("Power", /\*\*/, "**");
export const Star = punct("Star", /\*/, "*");
export const FloorDiv = punct("FloorDiv", /\/\//, "//");
export const Slash = punct("Slash", /\//, "/");
export const Percent = punct("Percent", /%/, "%");
export const Plus = punct("Plus", /\+/, "+");
export const Minus = punct("Minus", /-/, "-");
export const Question = punct("Question", /\?/, "?");
export const Dot = punct("Dot", /\./, ".");

export const allTokens: TokenType[] = [
  WhiteSpace, Comment, SlashComment,
  Version, Import, Block, Model, Input, Return, Save, Skip, For, In, As, If, Else, Seq, Require,
  True, False, None, And, Or, Not,
  Identifier, Float, Int, StringLit, UnterminatedString,
  Pipe, Bar, LParen, RParen, LBrace, RBrace, LBracket, RBracket, Comma, Colon, Semi,
  EqEq, NotEq, LtEq, GtEq, Lt, Gt, Assign, Power, Star, FloorDiv, Slash, Percent, Plus, Minus, Question, Dot,
];

export const unetLexer = new Lexer(allTokens, { ensureOptimizations: true, positionTracking: "full" });
