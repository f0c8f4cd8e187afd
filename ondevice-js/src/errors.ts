/**
 * The one error type for what a user can fix: a file, folder or argument, named
 * in the message with the value received (as `keras_nlpkit.errors.UserInputError`).
 * The CLI prints it as one `nlpkit-ondevice: error: …` line and exits 2.
 */
export class UserInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserInputError';
  }
}
