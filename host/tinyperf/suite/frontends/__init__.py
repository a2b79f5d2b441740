"""Reference front ends: raw audio and images to the exact input bytes each MLPerf Tiny model takes."""
