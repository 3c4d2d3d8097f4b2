/** The model's output cannot be used: an empty response, or output that fails its schema. */
export class ModelOutputError extends Error {
  override name = "ModelOutputError";
  constructor(
    message: string,
    /** What the model returned, for logs. */
    readonly output: string | null,
  ) {
    super(message);
  }
}
