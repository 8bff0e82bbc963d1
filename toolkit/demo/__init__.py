"""`cargohold demo` and what it stands on, kept apart from the product: the story (story.py), its chapters
(adopt, migration, operate), the hand-made setup and the legacy app it adopts and migrates, and the
embedded AWS emulator (a moto server, also the tests' fixture). Nothing outside this package and the tests
imports it but the `demo` command."""
