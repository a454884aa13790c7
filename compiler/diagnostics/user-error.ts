// The one type of error that is the user's to fix, not a bug in unetc: bad input of any kind (a
// spec's stored text, a checkpoint, a data or weights file, a device limit, an option's value).
// The CLI prints `error: <message>` (renderUserError) and exits with `exitCode`; anything else
// that escapes a command is an internal error. This is the bottom layer, so every layer's own
// error classes can extend it.

export class UserError extends Error {
  /** 1: invalid input; 2: a usage error (a bad command line), as commander's own. */
  get exitCode(): 1 | 2 {
    return 1;
  }

  constructor(message: string) {
    super(message);
    // The subclass's own name, so an error class that only names a kind needs no constructor.
    this.name = new.target.name;
  }
}

/** A command line that cannot work (conflicting or out-of-range options): exit 2. */
export class UsageError extends UserError {
  override get exitCode(): 1 | 2 {
    return 2;
  }
}
