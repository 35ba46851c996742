"""The lab's final chat application (exercise 8): a choice of model (Amazon Bedrock Claude, the CML-hosted model
endpoint, Cloudera AI Inference, offline), of vector store (none, Chroma, Pinecone), temperature and max tokens.
Choices whose configuration is missing are shown disabled with the reason.
"""
import os
import runpy

os.environ.setdefault("CML_LAB_COMMAND", "app")
runpy.run_path(os.path.join(os.environ.get("CML_LAB_PROJECT_DIR") or os.getcwd(), "launchers", "run.py"), run_name="__main__")
