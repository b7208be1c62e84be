"""Code generation: C arrays, op resolver, model metadata and the AOT compiler."""
