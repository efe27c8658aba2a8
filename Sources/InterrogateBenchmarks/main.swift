import InterrogateTUI

ScreenBenchmarks.main(CommandLine.arguments)
