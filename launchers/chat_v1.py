"""The lab's first chat application (exercise 4): one question box over the ingested documents.

Exercise 8 re-points the application to launchers/chat_final.py (`deploy app set-script chat
launchers/chat_final.py`), which offers every model back-end and vector store. Both run `cml-lab app`; this one
limits the choices unless the application's environment sets CML_LAB_MODELS / CML_LAB_STORES itself.
"""
import os
import runpy

os.environ.setdefault("CML_LAB_COMMAND", "app")
os.environ.setdefault("CML_LAB_MODELS", "bedrock,offline")
# Exercise 4 offers Chroma, Pinecone or no retrieval; a store that is not configured is shown disabled with the
# reason (Pinecone until PINECONE_API_KEY and CML_LAB_PINECONE_INDEX are set).
os.environ.setdefault("CML_LAB_STORES", "chroma,pinecone,none")
# Under CML's kernel __file__ is unreliable; workloads start in the project root.
runpy.run_path(os.path.join(os.environ.get("CML_LAB_PROJECT_DIR") or os.getcwd(), "launchers", "run.py"), run_name="__main__")
