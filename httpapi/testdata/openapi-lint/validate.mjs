// Validates an OpenAPI document with swagger-parser (schema and references); prints "valid"
// or the error and exits 1.
import SwaggerParser from "@apidevtools/swagger-parser";

try {
  await SwaggerParser.validate(process.argv[2]);
  console.log("valid");
} catch (err) {
  console.error(err.message);
  process.exit(1);
}
