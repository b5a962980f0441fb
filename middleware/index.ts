/** Every built-in middleware factory and its options type. */
export * from './conditional.js'
export * from './lint.js'
