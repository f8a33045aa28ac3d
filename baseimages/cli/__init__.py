"""The command line: parses arguments, calls the library, prints, and maps errors to exit codes."""
