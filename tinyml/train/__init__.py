"""Teacher and student models, budget sizing, distillation and training loops."""
