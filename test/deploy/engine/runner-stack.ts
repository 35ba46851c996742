/** The `runner` stack (three jobs, one files mapping) that the lock tests apply, race and kill. */
export const MANIFEST = (project: string) => `name: runner
project: { name: "${project}" }
targets:
  test: { default: true, url: "\${env:CML_API_URL}" }
defaults:
  runtime: { editor: PBJ Workbench, kernel: Python 3.11, edition: Standard }
files:
  - { from: jobs, to: jobs }
jobs:
  scrape: { script: jobs/scrape.py }
  populate: { script: jobs/populate.py, after: scrape }
  bad: { script: jobs/bad.py }
`;
export const SOURCES = {
  "jobs/scrape.py": "print('scraped 3 pages')\n",
  "jobs/populate.py": "print('populated')\n",
  "jobs/bad.py": "import sys\nprint('about to fail')\nsys.exit(3)\n",
};
