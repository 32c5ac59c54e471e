// The verbs of each group, in the order `--help` lists them. Add a verb: write <group>_<verb>_cmd.cpp with a
// Register function, declare it here, call it below and list the file in CMakeLists.txt.
#include "runtime/cli/commands.h"

namespace warden::cli {

void RegisterModelInfo(CLI::App& group, CliContext& ctx);        // model_info_cmd.cpp
void RegisterModelLogits(CLI::App& group, CliContext& ctx);      // model_logits_cmd.cpp
void RegisterModelTokenize(CLI::App& group, CliContext& ctx);    // model_tokenize_cmd.cpp
void RegisterModelDetokenize(CLI::App& group, CliContext& ctx);  // model_detokenize_cmd.cpp
void RegisterModelGenerate(CLI::App& group, CliContext& ctx);    // model_generate_cmd.cpp
void RegisterModelBench(CLI::App& group, CliContext& ctx);       // model_bench_cmd.cpp
void RegisterModelPreprocess(CLI::App& group, CliContext& ctx);  // model_preprocess_cmd.cpp

void RegisterModelVerbs(CLI::App& model, CliContext& ctx) {
  RegisterModelInfo(model, ctx);
  RegisterModelLogits(model, ctx);
  RegisterModelGenerate(model, ctx);
  RegisterModelBench(model, ctx);
  RegisterModelPreprocess(model, ctx);
  RegisterModelTokenize(model, ctx);
  RegisterModelDetokenize(model, ctx);
}

void RegisterChatParse(CLI::App& group, CliContext& ctx);         // chat_parse_cmd.cpp
void RegisterChatRender(CLI::App& group, CliContext& ctx);        // chat_render_cmd.cpp

void RegisterAuditKeygen(CLI::App& group, CliContext& ctx);      // audit_keygen_cmd.cpp
void RegisterAuditQuery(CLI::App& group, CliContext& ctx);       // audit_query_cmd.cpp
void RegisterAuditVerify(CLI::App& group, CliContext& ctx);      // audit_verify_cmd.cpp
void RegisterAuditExport(CLI::App& group, CliContext& ctx);      // audit_export_cmd.cpp
void RegisterAuditStats(CLI::App& group, CliContext& ctx);       // audit_stats_cmd.cpp
void RegisterAuditCheckpoint(CLI::App& group, CliContext& ctx);  // audit_checkpoint_cmd.cpp
void RegisterAuditPrune(CLI::App& group, CliContext& ctx);       // audit_prune_cmd.cpp
void RegisterAuditRotateKey(CLI::App& group, CliContext& ctx);   // audit_rotate_key_cmd.cpp

void RegisterAuditVerbs(CLI::App& audit, CliContext& ctx) {
  RegisterAuditQuery(audit, ctx);
  RegisterAuditVerify(audit, ctx);
  RegisterAuditExport(audit, ctx);
  RegisterAuditStats(audit, ctx);
  RegisterAuditCheckpoint(audit, ctx);
  RegisterAuditKeygen(audit, ctx);
  RegisterAuditPrune(audit, ctx);
  RegisterAuditRotateKey(audit, ctx);
}

void RegisterPolicyCheck(CLI::App& group, CliContext& ctx);  // policy_check_cmd.cpp
void RegisterPolicyEval(CLI::App& group, CliContext& ctx);   // policy_eval_cmd.cpp
void RegisterPolicyTest(CLI::App& group, CliContext& ctx);   // policy_test_cmd.cpp
void RegisterPolicyShow(CLI::App& group, CliContext& ctx);   // policy_show_cmd.cpp

void RegisterPolicyVerbs(CLI::App& policy, CliContext& ctx) {
  RegisterPolicyCheck(policy, ctx);
  RegisterPolicyEval(policy, ctx);
  RegisterPolicyTest(policy, ctx);
  RegisterPolicyShow(policy, ctx);
}

void RegisterChatVerbs(CLI::App& chat, CliContext& ctx) {
  RegisterChatParse(chat, ctx);
  RegisterChatRender(chat, ctx);
}

void RegisterSandboxRun(CLI::App& group, CliContext& ctx);  // sandbox_run_cmd.cpp

void RegisterSandboxVerbs(CLI::App& sandbox, CliContext& ctx) { RegisterSandboxRun(sandbox, ctx); }

void RegisterSkillsList(CLI::App& group, CliContext& ctx);      // skills_list_cmd.cpp
void RegisterSkillsSearch(CLI::App& group, CliContext& ctx);    // skills_search_cmd.cpp
void RegisterSkillsShow(CLI::App& group, CliContext& ctx);      // skills_show_cmd.cpp
void RegisterSkillsValidate(CLI::App& group, CliContext& ctx);  // skills_validate_cmd.cpp
void RegisterSkillsImport(CLI::App& group, CliContext& ctx);    // skills_import_cmd.cpp
void RegisterSkillsReindex(CLI::App& group, CliContext& ctx);   // skills_reindex_cmd.cpp
void RegisterSkillsRun(CLI::App& group, CliContext& ctx);       // skills_run_cmd.cpp

void RegisterSkillsVerbs(CLI::App& skills, CliContext& ctx) {
  RegisterSkillsList(skills, ctx);
  RegisterSkillsSearch(skills, ctx);
  RegisterSkillsShow(skills, ctx);
  RegisterSkillsValidate(skills, ctx);
  RegisterSkillsImport(skills, ctx);
  RegisterSkillsReindex(skills, ctx);
  RegisterSkillsRun(skills, ctx);
}

}  // namespace warden::cli
