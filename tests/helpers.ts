/**
 * The tests' helpers: they live in `testing/helpers.ts`, where the measuring scripts import them
 * too without depending on the test suite.
 *
 * @module
 */
export * from "../testing/helpers.ts";
