import "../src/index.js";
import { ReferenceBackend } from "../src/reference/backend.js";
import { runBackendConformance } from "./conformance.js";

// The f32 reference against itself in f64 storage: checks the harness and that f32 rounding
// stays inside the tolerances every other backend is held to.
runBackendConformance("reference-f64", () => new ReferenceBackend({ f64: true }));
