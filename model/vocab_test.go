package model

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// TestVocabularies: the plans vocabulary is the standard one, same ids, and the plan words
// after it; each is found by its size; a checkpoint records the vocabulary its model reads,
// and one of a vocabulary this build does not know is refused, naming it.
func TestVocabularies(t *testing.T) {
	std, plans := StandardVocab(), PlansVocab()
	if std.Version() != VocabVersion || plans.Version() != PlansVocabVersion || std.Hash() == plans.Hash() {
		t.Fatalf("versions %q and %q", std.Version(), plans.Version())
	}
	if !slices.Equal(plans.Words()[:std.Size()], std.Words()) || !slices.Equal(plans.Words()[std.Size():], PlanWords) {
		t.Fatal("the plans vocabulary must be the standard words, same ids, then the plan words")
	}
	if len(PlanWords) != 1+2*(2*MaxOffset+1) || PlanWords[1] != "row-9" || PlanWords[len(PlanWords)-1] != "col+9" || OffsetWord("col", 0) != "col+0" {
		t.Fatalf("plan words %v", PlanWords)
	}
	for _, v := range Vocabs() {
		if got, err := VocabOfSize(v.Size()); err != nil || got != v {
			t.Errorf("VocabOfSize(%d) = %v, %v", v.Size(), got, err)
		}
	}
	if _, err := VocabOfSize(7); err == nil || !strings.Contains(err.Error(), PlansVocabVersion) {
		t.Errorf("VocabOfSize(7): %v, want an error naming the known vocabularies", err)
	}

	dir := t.TempDir()
	for _, v := range Vocabs() {
		cfg := StandardConfigForTest()
		cfg.Vocab = v.Size()
		path := filepath.Join(dir, v.Version()+".safetensors")
		if err := SaveCheckpoint(path, newTestModel(t, cfg, tensor.Float32, 2), nil, nil); err != nil {
			t.Fatal(err)
		}
		ck, err := LoadCheckpoint(path)
		if err != nil || ck.Vocab != v || ck.Model.Config.Vocab != v.Size() {
			t.Fatalf("%s: loaded vocabulary %v (%v)", v.Version(), ck, err)
		}
	}
	m := newTestModel(t, StandardConfigForTest(), tensor.Float32, 3)
	tensors := map[string]*stTensor{}
	for _, p := range m.Params {
		tensors[p.Name] = &stTensor{DType: "F32", Shape: []int(p.Value.Shape()), data: float32Bytes(floatsOf(p.Value))}
	}
	cfgJSON, _ := json.Marshal(m.Config)
	unknown := filepath.Join(dir, "unknown.safetensors")
	meta := map[string]string{metaConfig: string(cfgJSON), metaVocabVersion: "erlgo-vocab-0", metaVocabHash: std.Hash()}
	if err := writeSafetensors(unknown, tensors, meta); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCheckpoint(unknown); err == nil || !strings.Contains(err.Error(), `"erlgo-vocab-0"`) || !strings.Contains(err.Error(), unknown) {
		t.Errorf("a checkpoint of an unknown vocabulary: %v, want an error naming it and the file", err)
	}
}
