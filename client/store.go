package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// TokenStore keeps what an App must remember between program runs: its users with their
// tokens, and its device id. An App loads its state once, in NewApp, and saves all of it
// after every change, so a store needs no merging logic. Implementations must be safe for
// concurrent use; Apps for different servers or app ids may share one store, each under its
// own key.
type TokenStore interface {
	// Load returns the state saved under key, or a zero State if there is none.
	Load(key string) (State, error)
	// Save replaces the state saved under key.
	Save(key string, state State) error
}

// State is what a TokenStore keeps for one App.
type State struct {
	DeviceID string      `json:"device_id,omitempty"`
	Users    []SavedUser `json:"users,omitempty"` // the current user first, logged-out users last
}

// SavedUser is one user of a State. The tokens are secrets: a store must keep them where
// only their owner can read them.
type SavedUser struct {
	ID           string `json:"id"`
	Provider     string `json:"provider"`                // the provider of the session
	AccessToken  string `json:"access_token,omitempty"`  // "" once logged out
	RefreshToken string `json:"refresh_token,omitempty"` // "" once logged out
}

// MemoryStore is a TokenStore in memory: users survive a new App value that shares the
// store, not the end of the program. NewApp uses a fresh one unless told otherwise.
type MemoryStore struct {
	mu     sync.Mutex
	states map[string]State
}

var _ TokenStore = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{states: map[string]State{}}
}

// Load returns a copy of the state saved under key.
func (s *MemoryStore) Load(key string) (State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneState(s.states[key]), nil
}

// Save keeps a copy of state under key, so that the caller's later changes do not leak in.
func (s *MemoryStore) Save(key string, state State) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.states[key] = cloneState(state)
	return nil
}

func cloneState(s State) State {
	s.Users = append([]SavedUser(nil), s.Users...)
	return s
}

// FileStore is a TokenStore in one JSON file, readable by its owner only (mode 0600, in a
// directory of mode 0700 if it has to create one). Every Save rewrites the file through a
// temporary file and a rename, so a crash leaves the old file or the new one, never half of
// one. Saves within one process are serialized; two processes saving at the same moment may
// lose one of the two updates (the last rename wins), never corrupt the file.
type FileStore struct {
	path string
	mu   sync.Mutex
}

var _ TokenStore = (*FileStore)(nil)

// NewFileStore returns a store that keeps its states in the file at path.
func NewFileStore(path string) *FileStore {
	return &FileStore{path: path}
}

// Path returns the file the store writes.
func (s *FileStore) Path() string { return s.path }

// fileContent is the file's layout: one State per App key.
type fileContent struct {
	Apps map[string]State `json:"apps"`
}

// Load returns the state saved under key; a missing file holds no state.
func (s *FileStore) Load(key string) (State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.read()
	if err != nil {
		return State{}, err
	}
	return c.Apps[key], nil
}

// Save replaces the state under key and keeps the other keys' states.
func (s *FileStore) Save(key string, state State) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.read()
	if err != nil {
		return err
	}
	if len(state.Users) == 0 && state.DeviceID == "" {
		delete(c.Apps, key)
	} else {
		c.Apps[key] = state
	}
	return s.write(c)
}

func (s *FileStore) read() (fileContent, error) {
	c := fileContent{Apps: map[string]State{}}
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	} else if err != nil {
		return c, fmt.Errorf("read token store: %w", err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("read token store %s: %w", s.path, err)
	}
	if c.Apps == nil {
		c.Apps = map[string]State{}
	}
	return c, nil
}

func (s *FileStore) write(c fileContent) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("write token store: %w", err)
	}
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write token store: %w", err)
	}
	// CreateTemp makes the file with mode 0600, so the tokens are never readable by others,
	// not even for a moment.
	f, err := os.CreateTemp(dir, ".credentials-*.tmp")
	if err != nil {
		return fmt.Errorf("write token store: %w", err)
	}
	defer os.Remove(f.Name()) // a no-op once renamed
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write token store: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write token store: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write token store: %w", err)
	}
	if err := os.Rename(f.Name(), s.path); err != nil {
		return fmt.Errorf("write token store: %w", err)
	}
	return nil
}
