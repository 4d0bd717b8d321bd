import Foundation
import NylasSimulator

// Benchmark driver: see Benchmarks/README.md. Each benchmark prints one line: name, median, target.
print("nylas-sim-bench: no benchmark selected")
