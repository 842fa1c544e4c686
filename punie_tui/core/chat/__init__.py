"""Chat core: sandboxed workspace tools, transcripts and verdicts, and the models a chat runs on."""
