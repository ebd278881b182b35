"""The live stream: the feed reading the topics, the hub fanning events out, the SSE response."""
