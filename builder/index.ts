/** The builder DSL: `builder(enable(...), enableIf(...), mount(...), app)`. */
export * from './builder.js'
export * from './parts.js'
export * from './registry.js'
