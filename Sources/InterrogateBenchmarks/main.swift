import Foundation
import InterrogateTUI

// `auto`: sessions per minute against a fake server; `store`: the team store against the folder;
// anything else: the screen benchmarks.
if CommandLine.arguments.dropFirst().first == "auto" {
    try await AutoBenchmark.main(CommandLine.arguments)
} else if CommandLine.arguments.dropFirst().first == "store" {
    try await StoreBenchmark.main(CommandLine.arguments)
} else {
    ScreenBenchmarks.main(CommandLine.arguments)
}
