import { runBin } from "../shared/bin-entry.js";
import { main } from "./main.js";

await runBin(main);
