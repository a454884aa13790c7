// The training step's contract: how its values are named. Every stage that builds a step
// (lower, autodiff, the optimizer, EMA) and every consumer of one (executors, runners, the
// training loop, checkpoints) spells the names through this module, so the contract is in one
// place:
//   X               a source: parameter, buffer, optimizer or EMA state, input or scalar
//   new.X           an output that replaces source X after a run (fed back for the next step)
//   grad.X          the loss's gradient with respect to parameter X
//   adam.m.X/v.X    Adam's first and second moments of parameter X
//   ema.X           the exponential moving average of parameter or float buffer X
//   metrics.loss_sum  the loss summed on the device between two reads
export const NEW_PREFIX = "new.";
export const GRAD_PREFIX = "grad.";
export const ADAM_PREFIX = "adam.";
export const EMA_PREFIX = "ema.";

export const newName = (source: string): string => `${NEW_PREFIX}${source}`;
export const gradName = (param: string): string => `${GRAD_PREFIX}${param}`;
export const adamStateName = (moment: "m" | "v", param: string): string => `${ADAM_PREFIX}${moment}.${param}`;
export const emaName = (name: string): string => `${EMA_PREFIX}${name}`;

/** The source an output `new.X` replaces, or undefined for any other output. */
export const replacedSource = (output: string): string | undefined => (output.startsWith(NEW_PREFIX) ? output.slice(NEW_PREFIX.length) : undefined);
export const isAdamState = (name: string): boolean => name.startsWith(ADAM_PREFIX);
export const isEmaState = (name: string): boolean => name.startsWith(EMA_PREFIX);
export const isGradient = (name: string): boolean => name.startsWith(GRAD_PREFIX);

/** Names of the model's forward output, its loss and the loss's target input. */
export const OUTPUT = "output";
export const LOSS = "loss";
export const TARGET = "target";

/** Names of the scalar inputs of a training step. */
export const HYPER_PARAMS = ["lr", "beta1", "beta2", "eps", "weight_decay", "step"] as const;
export type HyperParam = (typeof HYPER_PARAMS)[number];

/** The running sum of the loss the training loop reads every N steps, and the EMA's decay scalar. */
export const LOSS_SUM = "metrics.loss_sum";
export const EMA_DECAY = "ema_decay";
