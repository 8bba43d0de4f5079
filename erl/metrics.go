package erl

// Record is one line of a run's metrics.jsonl: what one training step did and cost. Fields that
// a step did not measure (no second attempts, no evaluation this step) are absent (nil).
type Record struct {
	Step int `json:"step"`
	// WallSeconds is the run's training time so far, resumed segments added up.
	WallSeconds float64 `json:"wall_s"`
	// EnvSteps and Tokens count environment actions taken and tokens trained on, so far.
	EnvSteps int64 `json:"env_steps"`
	Tokens   int64 `json:"tokens"`
	// FLOPs estimates the floating-point work of training and sampling so far.
	FLOPs float64 `json:"flops"`

	// The loss and its terms, each already weighted (Loss = PG + KL + Distill; Distill holds
	// the hindsight retries' likelihood too).
	Loss    float64 `json:"loss"`
	PG      float64 `json:"loss_pg"`
	KL      float64 `json:"loss_kl"`
	Distill float64 `json:"loss_distill"`
	// ClipFrac is the fraction of policy-gradient tokens whose ratio was clipped.
	ClipFrac float64 `json:"clip_frac"`
	GradNorm float64 `json:"grad_norm"`
	LR       float64 `json:"lr"`

	// SuccessPre is the success rate of the step's first attempts; SuccessPost that of its
	// second attempts (after reflection), of which there were Retried: one for each first
	// attempt that the gate retried.
	SuccessPre  float64  `json:"success_pre"`
	SuccessPost *float64 `json:"success_post,omitempty"`
	Retried     int      `json:"retried"`
	// SuccessPlain is, where Config.MeasureLift is on, the success rate of the plain retries
	// of the same Retried attempts: for each, a fresh first attempt at its level, with the
	// same sampling settings, which nothing trains on. The second attempts were taken at the
	// same levels after the same failures, so Lift = SuccessPost − SuccessPlain is what the
	// reflection (in erl-norefl, the sight of the raw first attempt and its feedback) adds to
	// a second try, and nothing else. RetryTasks holds the counts of each retried task, the
	// unit that the lift's intervals resample (report pools them over steps).
	SuccessPlain *float64     `json:"success_retry_plain,omitempty"`
	Lift         *float64     `json:"reflection_lift,omitempty"`
	RetryTasks   []RetryCount `json:"retry_tasks,omitempty"`
	// TrainMoves is the mean length of the optimal solutions of the step's training levels,
	// where the curriculum chose them.
	TrainMoves *float64 `json:"train_moves,omitempty"`
	// Reflections is the number of reflections written this step; Distilled the number of
	// successful second attempts distilled into the first-attempt context.
	Reflections int `json:"reflections"`
	Distilled   int `json:"distilled"`
	// HindsightRetries is the number of retries whose guided context was trained on a solved
	// first attempt at their task (TermWeights.HindsightRetry).
	HindsightRetries int `json:"hindsight_retries,omitempty"`
	// HindsightReflections is the number of reflections trained to write a solved first
	// attempt's actions (TermWeights.HindsightReflection).
	HindsightReflections int `json:"hindsight_reflections,omitempty"`
	// Memory is the number of reflections held in the cross-episode memory.
	Memory int `json:"memory"`

	// EvalGreedy and EvalSampled are held-out first-attempt success rates (greedy, and sampled
	// as in the paper's validation), measured every few steps.
	EvalGreedy  *float64 `json:"eval_greedy,omitempty"`
	EvalSampled *float64 `json:"eval_sampled,omitempty"`

	// StepSeconds is the wall-clock time of this step alone, and the rest where it went: first
	// attempts, reflections and second attempts, the plain retries that measure the lift, and
	// the update (reference policy included).
	StepSeconds   float64 `json:"step_s"`
	FirstSeconds  float64 `json:"first_s"`
	RetrySeconds  float64 `json:"retry_s"`
	LiftSeconds   float64 `json:"lift_s"`
	UpdateSeconds float64 `json:"update_s"`

	// RSSMB is the process's peak resident set size so far, in MiB (0 where the operating
	// system does not tell).
	RSSMB float64 `json:"rss_mb"`
}

// RetryCount is what became of the retried attempts at one task of a step: how many there
// were, and how many of their guided second attempts and of their plain retries succeeded.
type RetryCount struct {
	Attempts int `json:"n"`
	Guided   int `json:"guided"`
	Plain    int `json:"plain"`
}
