"""What every feature shares: errors with codes and bilingual messages, ids, clock."""
