import Foundation
import InterrogateTUI

// `auto`: sessions per minute against a fake server; anything else: the screen benchmarks.
if CommandLine.arguments.dropFirst().first == "auto" {
    try await AutoBenchmark.main(CommandLine.arguments)
} else {
    ScreenBenchmarks.main(CommandLine.arguments)
}
