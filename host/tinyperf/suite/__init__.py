"""What each MLPerf Tiny benchmark is (kws01, vww01, ad01, ic01, ic02, sww01): the pinned models and
their fallbacks, input conversion and front ends, dataset builders and smoke sets, result formats and
scoring. Nothing here talks to a device."""
