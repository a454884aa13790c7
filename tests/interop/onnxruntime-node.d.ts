// onnxruntime-node 1.17.0 (pinned: the last release without a postinstall) ships no type
// declarations of its own; its API is onnxruntime-common's, which does.
declare module "onnxruntime-node" {
  export * from "onnxruntime-common";
}
