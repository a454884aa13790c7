// Every diagnostic code with its title and a longer explanation (`unetc explain CODE`).
// Codes are stable: tests and users refer to them.

export const CODES = {
  E0001: { title: "unexpected character", explain: "The lexer met a character that starts no token of the .unet language. Comments start with `#`." },
  E0002: { title: "syntax error", explain: "The parser expected another token here. The message says what it expected; the parser recovers and reports every syntax error of the file in one run." },
  E0003: { title: "unterminated string", explain: "A string literal must end with `\"` on the same line." },
  E0004: { title: "missing or unsupported version", explain: "Every spec file starts with `version 1`, the version of the .unet format it is written in." },
  E0005: { title: "cannot import file", explain: "`import \"path\"` is resolved relative to the importing file, then relative to the models/ folder that ships with unetc." },
  E0101: { title: "unknown name", explain: "A name was used that is neither a parameter, a local variable nor a loop variable in scope." },
  E0102: { title: "unknown block or layer", explain: "A call names neither a built-in layer nor a `block` defined in this file or an imported one." },
  E0103: { title: "unknown argument", explain: "A keyword argument (or a `--set` key) names no parameter of the block, layer or model. Unknown keys are errors, never ignored." },
  E0104: { title: "missing argument", explain: "A parameter without a default value was not given." },
  E0105: { title: "duplicate definition", explain: "A block, model, parameter or input is defined twice in the same scope." },
  E0106: { title: "bad arguments", explain: "Too many positional arguments, or one argument given twice." },
  E0107: { title: "which model", explain: "The file defines no model, or several: pick one with `--model NAME`." },
  E0201: { title: "type mismatch", explain: "A value has another type than the place it is used in expects (an int where a list is expected, a tensor where a number is expected, ...)." },
  E0202: { title: "bad override", explain: "A `--set key=value` override could not be parsed or has the wrong type for the parameter." },
  E0203: { title: "index out of range", explain: "A list index is outside the list. Negative indices count from the end." },
  E0204: { title: "invalid arithmetic", explain: "Division by zero, or an operation that is not defined for these values." },
  E0301: { title: "shape mismatch", explain: "Two tensors of incompatible shapes meet in an elementwise operation. A vector of C values broadcasts over the channels of a [C, H, W] image and over the features of [S, C] tokens." },
  E0302: { title: "concat size mismatch", explain: "Tensors concatenated along channels must have the same spatial size. With skip connections this usually means the image size is not divisible by 2^(levels-1), or a save and its use sit at different resolutions." },
  E0303: { title: "channels do not divide into heads", explain: "Attention splits channels into heads of `attn_chans` channels each; the channel count must be a multiple of it." },
  E0304: { title: "groups do not divide channels", explain: "GroupNorm needs the number of channels to be a multiple of the number of groups, concatenated skip widths included." },
  E0305: { title: "spatial size not divisible", explain: "A stride-2 layer needs an even spatial size so that the matching upsample restores it. The image size must be divisible by 2^(levels-1)." },
  E0306: { title: "wrong tensor kind", explain: "A layer got a tensor of another rank than it works on: images are [C, H, W], tokens [S, C], vectors [C]." },
  E0307: { title: "bad rearrange pattern", explain: "An einops-style pattern must name each input axis once, and every axis of the output must come from the input (grouped axes need their sizes)." },
  E0401: { title: "skip used but none saved", explain: "`skip` takes the most recently saved activation; every `skip` needs a `save` before it." },
  E0402: { title: "saved activation never used", explain: "Every `save` must be matched by a `skip`: saves and uses must balance by the end of the model." },
  E0501: { title: "duplicate parameter name", explain: "Two layers would create a parameter with the same dotted name. Name one of them with `as NAME`." },
  E0601: { title: "model returns nothing", explain: "A model body must end with `return EXPR`, the model's output image." },
  E0602: { title: "requirement failed", explain: "A `require CONDITION else \"message\"` check in a block or model did not hold." },
  E0603: { title: "bad input declaration", explain: "Inputs are `image[C, H, W]`, `timestep` or `label[CLASSES]`." },
  E0604: { title: "elaboration limit", explain: "A loop ran too many times or blocks recursed too deeply; the spec probably loops on a wrong bound." },
  E0900: { title: "cannot read file", explain: "The file does not exist or cannot be read." },
} as const satisfies Record<string, { title: string; explain: string }>;

export type DiagnosticCode = keyof typeof CODES;
