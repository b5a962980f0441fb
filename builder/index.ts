/** The builder DSL: `builder(enable(...), enableIf(...), mount(...), lifespan(...), app)`. */
export * from './builder.js'
export * from './lifespan.js'
export * from './parts.js'
export * from './registry.js'
