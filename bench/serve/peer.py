"""The baseline: FastAPI + uvicorn serving a scikit-learn model of the
churn data (HistGradientBoostingClassifier, the categorical columns
one-hot encoded), one JSON record per POST /predict, as the course's design
does. Run: python3 peer.py PORT WORKERS."""
import sys

import pandas as pd
import uvicorn
from fastapi import FastAPI, Request
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

DATA = "../../examples/churn/data/churn.csv"
df = pd.read_csv(DATA)
y = (df.pop("churn") == "yes").astype(int)
cats = [c for c in df.columns if df[c].dtype == object]
model = Pipeline([
    ("enc", ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), cats)], remainder="passthrough")),
    ("gbdt", HistGradientBoostingClassifier(max_iter=100, max_depth=6, random_state=7)),
]).fit(df, y)
columns = list(df.columns)

app = FastAPI()


@app.post("/predict")
async def predict(request: Request):
    record = await request.json()
    frame = pd.DataFrame([record], columns=columns)
    return {"predictions": model.predict_proba(frame)[:, 1].tolist()}


if __name__ == "__main__":
    port, workers = int(sys.argv[1]), int(sys.argv[2])
    if workers == 1:
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
    else:
        uvicorn.run("peer:app", host="127.0.0.1", port=port, workers=workers, log_level="warning")
